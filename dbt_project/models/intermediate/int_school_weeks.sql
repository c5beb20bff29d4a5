-- School weeks per holiday region: ISO weeks (Monday-Sunday) with at least one school day,
-- i.e. a weekday outside the region's school holidays (seed school_holidays plus a board's
-- own school_holidays_local). A week belongs to the month and school year of its Thursday
-- (the ISO rule), so every week has one period. Only weeks inside the span of loaded activity
-- count, so a year in progress is not diluted by weeks that have no data yet.
-- A day of activity that no calendar covers (seeds school_calendar_years[_local]) stops the
-- build: its holidays would otherwise count as school weeks (docs/LOADING.md).
with bounds as (
    select min(data_first_date) as first_date, max(data_last_date) as last_date
    from {{ ref('int_periods') }}
),

days as (
    {{ date_spine('(select ' ~ week_start('first_date') ~ ' from bounds)', '(select last_date from bounds)') }}
),

holidays as (
    select region, start_date, end_date from {{ ref('school_holidays') }}
    union all
    select region, start_date, end_date from {{ ref('school_holidays_local') }}
),

coverage as (
    select region, known_from, known_until from {{ ref('school_calendar_years') }}
    union all
    select region, known_from, known_until from {{ ref('school_calendar_years_local') }}
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
            select 1 from holidays as h
            where h.region = r.region
                and d.calendar_date between h.start_date and h.end_date
        ) as is_school_day,
        d.calendar_date >= (select first_date from bounds)
        and not exists (
            select 1 from coverage as c
            where c.region = r.region
                and d.calendar_date between c.known_from and c.known_until
        ) as uncovered
    from days as d
    cross join regions as r
),

calendar_gaps as (
    select
        region,
        {{ school_year_of('calendar_date') }} as school_year,
        min(calendar_date) as first_day,
        max(calendar_date) as last_day
    from region_days
    where uncovered
    group by region, {{ school_year_of('calendar_date') }}
),

calendar_check as (
    select
        count(*) as gaps,
        max(case when g.school_year is not null then {{ raise_error(
            "'Geen schoolkalender voor schooljaar ' || g.school_year || ' (regio ' || g.region"
            ~ " || ', dagen ' || cast(g.first_day as " ~ type_text() ~ ") || ' t/m '"
            ~ " || cast(g.last_day as " ~ type_text() ~ ")"
            ~ " || ' hebben activiteit): voeg de vakanties toe aan dbt_project/seeds/school_holidays_local.csv"
            ~ " en de gedekte dagen aan dbt_project/seeds/school_calendar_years_local.csv"
            ~ " (docs/LOADING.md, Schoolkalenders); zonder kalender tellen vakanties als schoolweken.'"
        ) }} end) as stop
    from calendar_gaps as g
)

select
    region,
    week_start,
    {{ add_days('week_start', 6) }} as week_end,
    {{ month_key(add_days('week_start', 3)) }} as month,
    {{ school_year_of(add_days('week_start', 3)) }} as school_year,
    sum(case when is_school_day then 1 else 0 end) as school_days
from region_days
cross join calendar_check
where calendar_check.gaps = 0 or calendar_check.stop is null
group by region, week_start
having sum(case when is_school_day then 1 else 0 end) > 0
