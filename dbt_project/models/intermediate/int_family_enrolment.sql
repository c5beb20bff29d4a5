-- Enrolled families per period: a family counts in a period (school year or month) at a
-- school when it was enrolled there on at least one day of the period. Several enrolment
-- spells of one family at one school in a period collapse into one row.
select
    p.period_type,
    p.period,
    p.school_year,
    fs.sector,
    fs.board_id,
    f.school_id,
    fs.ses_group,
    f.family_ref,
    sum({{ days_between('case when f.enrolled_from > p.period_start then f.enrolled_from else p.period_start end',
                        'case when f.enrolled_until < p.period_end then f.enrolled_until else p.period_end end') }} + 1)
        as enrolled_days
from {{ ref('stg_families') }} as f
inner join {{ ref('int_periods') }} as p
    on f.enrolled_from <= p.period_end
        and f.enrolled_until >= p.period_start
inner join {{ ref('int_family_school') }} as fs
    on f.family_ref = fs.family_ref and f.school_id = fs.school_id
group by p.period_type, p.period, p.school_year, fs.sector, fs.board_id, f.school_id, fs.ses_group, f.family_ref
