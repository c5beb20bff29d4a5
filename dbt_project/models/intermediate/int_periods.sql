-- The periods indicators are published for: every school year (1 August - 31 July) and month
-- that holds activity (contacts, messages or survey responses), optionally limited by the var
-- school_year for a backfill. data_first_date/data_last_date bound the school-week calendar so
-- that weeks without any data yet (the rest of the current year) do not count as empty weeks.
with activity as (
    select min(contact_date) as first_date, max(contact_date) as last_date
    from {{ ref('stg_contact_logs') }}
    union all
    select min(sent_date), max(sent_date) from {{ ref('stg_messages') }}
    union all
    select min(submitted_date), max(submitted_date) from {{ ref('stg_survey_responses') }}
),

bounds as (
    select min(first_date) as first_date, max(last_date) as last_date from activity
),

days as (
    {{ date_spine('(select first_date from bounds)', '(select last_date from bounds)') }}
),

months as (
    select distinct
        {{ month_key('calendar_date') }} as month,
        {{ school_year_of('calendar_date') }} as school_year
    from days
),

periods as (
    select
        'month' as period_type,
        month as period,
        school_year,
        {{ month_start('month') }} as period_start,
        {{ add_days(add_months(month_start('month'), 1), -1) }} as period_end
    from months
    union all
    select distinct
        'school_year' as period_type,
        school_year as period,
        school_year,
        {{ school_year_start('school_year') }} as period_start,
        {{ add_days(add_months(school_year_start('school_year'), 12), -1) }} as period_end
    from months
)

select
    p.period_type,
    p.period,
    p.school_year,
    p.period_start,
    p.period_end,
    b.first_date as data_first_date,
    b.last_date as data_last_date
from periods as p
cross join bounds as b
where {{ school_year_filter('p.school_year') }}
