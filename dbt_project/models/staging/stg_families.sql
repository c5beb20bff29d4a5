-- One row per family enrolment at a school (natural key family_ref, school_id, enrolled_from).
-- ses_group is the SES dimension of every indicator, derived from parent_education.
with ranked as (
    select
        f.*,
        row_number() over (
            partition by f.family_ref, upper(trim(f.school_id)), f.enrolled_from
            order by f._loaded_at, f._file_name, f._row_number
        ) as row_rank
    from {{ source('raw', 'families') }} as f
    where f.family_ref is not null and f.enrolled_from is not null
)

select
    family_ref,
    upper(trim(school_id)) as school_id,
    cast(enrolled_from as date) as enrolled_from,
    cast(enrolled_to as date) as enrolled_to,
    -- Open enrolment: treated as enrolled until far in the future.
    coalesce(cast(enrolled_to as date), cast('9999-12-31' as date)) as enrolled_until,
    lower(trim(parent_education)) as parent_education,
    case
        when lower(trim(parent_education)) in ('laag', 'midden', 'hoog') then lower(trim(parent_education))
        else 'onbekend'
    end as ses_group,
    lower(trim(home_language)) as home_language,
    n_children,
    _loaded_at,
    _load_id
from ranked
where row_rank = 1
