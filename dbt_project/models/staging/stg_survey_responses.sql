-- One row per survey response (first loaded row per response_id wins).
with ranked as (
    select
        r.*,
        row_number() over (
            partition by r.response_id
            order by r._loaded_at, r._file_name, r._row_number
        ) as row_rank
    from {{ source('raw', 'survey_responses') }} as r
    where r.response_id is not null
)

select
    response_id,
    respondent_ref,
    family_ref,
    upper(trim(school_id)) as school_id,
    lower(trim(sector)) as sector,
    trim(wave) as wave,
    cast(submitted_at as timestamp) as submitted_at,
    cast(submitted_at as date) as submitted_date,
    lower(trim(parent_education)) as parent_education,
    case
        when lower(trim(parent_education)) in ('laag', 'midden', 'hoog') then lower(trim(parent_education))
        else 'onbekend'
    end as ses_group,
    work_hours,
    q_comm_grade,
    lower(trim(q_contact_enough)) as q_contact_enough,
    lower(trim(q_talk_school)) as q_talk_school,
    lower(trim(q_read_aloud)) as q_read_aloud,
    lower(trim(q_homework_help)) as q_homework_help,
    q_support_ask,
    q_support_tips,
    q_support_none,
    lower(trim(q_tips_useful)) as q_tips_useful,
    q_helps_school,
    q_can_contribute,
    q_expectations_clear,
    q_teacher_open,
    _loaded_at,
    _load_id
from ranked
where row_rank = 1
