-- Survey responses with school attributes, periods and post-stratification weight, and one
-- 0/1 (or numeric) column per survey indicator; null where the respondent is not in that
-- indicator's denominator (item not answered, 'weet_niet', 'nvt', wrong sector).
select
    r.response_id,
    r.school_id,
    s.sector,
    s.board_id,
    r.ses_group,
    r.wave,
    r.submitted_date,
    {{ month_key('r.submitted_date') }} as month,
    {{ school_year_of('r.submitted_date') }} as school_year,
    w.weight,
    case when r.q_tips_useful is not null
            then case when r.q_tips_useful in ('heel_veel', 'tamelijk_veel') then 1 else 0 end
    end as tip_usefulness,
    case when r.q_support_tips is not null then case when r.q_support_tips = 1 then 1 else 0 end end as tips_received,
    case when r.q_support_none is not null then case when r.q_support_none = 1 then 1 else 0 end end as support_no_contact,
    cast(r.q_comm_grade as {{ type_double() }}) as comm_grade,
    case when r.q_contact_enough in ('voldoende', 'onvoldoende')
            then case when r.q_contact_enough = 'onvoldoende' then 1 else 0 end
    end as contact_insufficient,
    case when r.q_talk_school is not null then case when r.q_talk_school = 'dagelijks' then 1 else 0 end end as talk_daily,
    case when s.sector = 'po' and r.q_read_aloud is not null
            then case when r.q_read_aloud in ('dagelijks', 'wekelijks') then 1 else 0 end
    end as read_aloud_weekly,
    case when s.sector = 'vo' and r.q_homework_help is not null and r.q_homework_help <> 'nvt'
            then case when r.q_homework_help in ('dagelijks', 'wekelijks') then 1 else 0 end
    end as homework_help_weekly,
    case when r.q_helps_school is not null then case when r.q_helps_school = 1 then 1 else 0 end end as helps_school,
    case when r.q_can_contribute is not null then case when r.q_can_contribute >= 4 then 1 else 0 end end as can_contribute,
    case when r.q_expectations_clear is not null then case when r.q_expectations_clear >= 4 then 1 else 0 end end as expectations_clear,
    case when r.q_teacher_open is not null then case when r.q_teacher_open >= 4 then 1 else 0 end end as teacher_open
from {{ ref('stg_survey_responses') }} as r
inner join {{ ref('stg_schools') }} as s on r.school_id = s.school_id
left join {{ ref('int_survey_weights') }} as w
    on w.school_year = {{ school_year_of('r.submitted_date') }}
        and r.school_id = w.school_id
        and r.ses_group = w.ses_group
