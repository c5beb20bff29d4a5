-- One row per family and school: the SES group of the family's latest enrolment there and the
-- school's sector, board and holiday region. Activity (contacts, messages) takes its SES group
-- from here; a family that is not in the family list gets 'onbekend'.
with ranked as (
    select
        f.*,
        row_number() over (
            partition by f.family_ref, f.school_id
            order by f.enrolled_from desc, f._loaded_at desc
        ) as recency
    from {{ ref('stg_families') }} as f
)

select
    r.family_ref,
    r.school_id,
    r.ses_group,
    s.sector,
    s.board_id,
    s.holiday_region
from ranked as r
inner join {{ ref('stg_schools') }} as s on r.school_id = s.school_id
where r.recency = 1
