-- School weeks per holiday region: ISO weeks (Monday-Sunday) with at least one school day,
-- i.e. a weekday outside the region's school holidays (seed school_holidays). A week belongs
-- to the month and school year of its Thursday (the ISO rule), so every week has one period.
-- Only weeks inside the span of loaded activity count, so a year in progress is not diluted
-- by weeks that have no data yet.
with bounds as (
    select min(data_first_date) as first_date, max(data_last_date) as last_date
    from {{ ref('int_periods') }}
),

days as (
    {{ date_spine('(select ' ~ week_start('first_date') ~ ' from bounds)', '(select last_date from bounds)') }}
),

regions as (
    select distinct region from {{ ref('school_holidays') }}
),

region_days as (
    select
        r.region,
        d.calendar_date,
        {{ week_start('d.calendar_date') }} as week_start,
        {{ iso_day_of_week('d.calendar_date') }} <= 5
            and not exists (
                select 1 from {{ ref('school_holidays') }} as h
                where h.region = r.region
                  and d.calendar_date between h.start_date and h.end_date
            ) as is_school_day
    from days as d
    cross join regions as r
)

select
    region,
    week_start,
    {{ add_days('week_start', 6) }} as week_end,
    {{ month_key(add_days('week_start', 3)) }} as month,
    {{ school_year_of(add_days('week_start', 3)) }} as school_year,
    sum(case when is_school_day then 1 else 0 end) as school_days
from region_days
group by region, week_start
having sum(case when is_school_day then 1 else 0 end) > 0
