-- Post-stratification weights on SES group within school and school year:
--   weight = population share / respondent share = (N_g / N) / (n_g / n)
-- N_g counts the families of group g enrolled at the school in that school year (the
-- population), n_g the responses of group g. N is taken over the groups that have respondents:
-- a group nobody responded for cannot be represented, and normalising this way keeps the
-- weights of a school summing to its number of respondents, so schools keep their unweighted
-- share in board and sector roll-ups. A respondent group without families gets weight 0;
-- schools without family data get no weights and are left out of the _weighted indicators.
with population as (
    select school_year, school_id, ses_group, count(*) as n_population
    from {{ ref('int_family_enrolment') }}
    where period_type = 'school_year'
    group by school_year, school_id, ses_group
),

respondents as (
    select
        {{ school_year_of('submitted_date') }} as school_year,
        school_id,
        ses_group,
        count(*) as n_respondents
    from {{ ref('stg_survey_responses') }}
    group by 1, 2, 3
),

joined as (
    select
        r.school_year,
        r.school_id,
        r.ses_group,
        r.n_respondents,
        coalesce(p.n_population, 0) as n_population,
        sum(r.n_respondents) over (partition by r.school_year, r.school_id) as school_respondents,
        sum(coalesce(p.n_population, 0)) over (partition by r.school_year, r.school_id)
            as represented_population
    from respondents as r
    left join population as p
        on r.school_year = p.school_year and r.school_id = p.school_id and r.ses_group = p.ses_group
)

select
    school_year,
    school_id,
    ses_group,
    n_respondents,
    n_population,
    school_respondents,
    represented_population,
    (cast(n_population as {{ type_double() }}) / represented_population)
    / (cast(n_respondents as {{ type_double() }}) / school_respondents) as weight
from joined
where represented_population > 0
