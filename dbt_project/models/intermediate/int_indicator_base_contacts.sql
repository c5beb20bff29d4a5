-- Contact indicators at school x SES group x period (sufficient statistics, see macro
-- indicator_base). Family-based indicators count enrolled families (a family counts in a
-- period when enrolled >= 1 day); contact-based ones count contacts. Each contact falls in one
-- month, so contact-based statistics are summed per month and a school year is the sum of its
-- months (macros indicator_bases_by_month, months_and_school_years), as are the held contacts
-- per family. int_contacts keeps every month (incremental by month): the school years of this
-- build are selected here.
{% set contacts = '(select * from ' ~ ref('int_contacts') ~ ' where '
                  ~ school_year_date_filter('contact_date') ~ ') as contacts' %}
with held_per_family_month as (
    select
        school_year,
        month,
        family_ref,
        school_id,
        count(*) as held_contacts,
        sum(case when is_individual then 1 else 0 end) as held_individual,
        sum(case when channel = 'huisbezoek' then 1 else 0 end) as held_home_visits
    from {{ contacts }}
    where is_held
    group by school_year, month, family_ref, school_id
),

held_per_family as (
    -- Held contacts per family, school and period (pre-aggregated for an equi-join).
    select
        'month' as period_type, month as period, family_ref, school_id,
        held_contacts, held_individual, held_home_visits
    from held_per_family_month
    union all
    select
        'school_year' as period_type, school_year as period, family_ref, school_id,
        sum(held_contacts) as held_contacts,
        sum(held_individual) as held_individual,
        sum(held_home_visits) as held_home_visits
    from held_per_family_month
    group by school_year, family_ref, school_id
),

month_stats as (
    {{ indicator_bases_by_month(contacts, [
        {'code': 'contact_parent_initiated',
         'x': "case when initiated_by = 'ouder' then 1 else 0 end", 'where': 'is_held'},
        {'code': 'contact_no_show', 'x': "case when status = 'niet_verschenen' then 1 else 0 end",
         'where': "is_scheduled and status in ('gehouden', 'niet_verschenen')"},
        {'code': 'contact_support_topic',
         'x': "case when topic in ('thuisondersteuning', 'leervorderingen') then 1 else 0 end",
         'where': 'is_held and is_individual'},
    ]) }}
),

family_contacts as (
    -- Every enrolled family in every period, with its held contacts (0 when none).
    select
        e.period_type,
        e.period,
        e.school_year,
        e.sector,
        e.board_id,
        e.school_id,
        e.ses_group,
        e.family_ref,
        coalesce(h.held_contacts, 0) as held_contacts,
        coalesce(h.held_individual, 0) as held_individual,
        coalesce(h.held_home_visits, 0) as held_home_visits
    from {{ ref('int_family_enrolment') }} as e
    left join held_per_family as h
        on e.period_type = h.period_type
            and e.period = h.period
            and e.family_ref = h.family_ref
            and e.school_id = h.school_id
)

{{ unweighted_indicator_bases('family_contacts', [
    {'code': 'contact_frequency', 'x': 'held_contacts'},
    {'code': 'contact_reach', 'x': 'case when held_individual > 0 then 1 else 0 end'},
    {'code': 'contact_home_visits', 'x': '100.0 * held_home_visits'},
]) }}
union all
{{ months_and_school_years('month_stats') }}
