-- Message indicators at school x SES group x period (sufficient statistics, see macro
-- indicator_base). Each message and each family-week falls in one month, so their indicators
-- are summed per month, from one scan of the messages for all message-level indicators, and a
-- school year is the sum of its months (macros indicator_bases_by_month,
-- months_and_school_years). Family-level indicators (reach, dose)
-- are not sums over messages: they count families, from per-family totals per month.
-- int_messages and int_family_weeks keep every month (incremental by month): the school years
-- of this build are selected here.
{% set messages = '(select * from ' ~ ref('int_messages') ~ ' where '
                  ~ school_year_date_filter('sent_date') ~ ') as messages' %}
{% set family_weeks = '(select * from ' ~ ref('int_family_weeks') ~ ' where '
                      ~ school_year_filter('school_year') ~ ') as family_weeks' %}
with month_stats as (
    {{ indicator_bases_by_month(messages, [
        {'code': 'message_delivery_rate', 'x': 'case when is_delivered then 1 else 0 end'},
        {'code': 'message_read_rate', 'x': 'case when is_read then 1 else 0 end',
         'where': "is_delivered and channel in ('app', 'whatsapp', 'email')"},
        {'code': 'message_effective_purpose',
         'x': "case when purpose in ('voortgang', 'tip', 'aanmoediging') then 1 else 0 end"},
        {'code': 'message_reply_rate', 'x': 'case when has_replied then 1 else 0 end',
         'where': 'is_delivered'},
        {'code': 'tip_feedback_useful', 'x': "case when latest_feedback = 'nuttig' then 1 else 0 end",
         'where': "purpose = 'tip' and latest_feedback is not null"},
    ]) }}
    union all
    {{ indicator_bases_by_month(family_weeks, [
        {'code': 'message_overdose',
         'x': 'case when n_messages > ' ~ var('overdose_threshold') ~ ' then 1 else 0 end'},
    ]) }}
),

delivered_per_family_month as (
    select school_year, month, family_ref, school_id, count(*) as n_delivered
    from {{ messages }}
    where is_delivered
    group by school_year, month, family_ref, school_id
),

delivered_per_family as (
    -- Delivered messages per family, school and period (pre-aggregated for an equi-join).
    select 'month' as period_type, month as period, family_ref, school_id, n_delivered
    from delivered_per_family_month
    union all
    select 'school_year' as period_type, school_year as period, family_ref, school_id,
           sum(n_delivered) as n_delivered
    from delivered_per_family_month
    group by school_year, family_ref, school_id
),

family_delivered as (
    -- Did each enrolled family get at least one delivered message in the period?
    select
        e.period_type,
        e.period,
        e.school_year,
        e.sector,
        e.board_id,
        e.school_id,
        e.ses_group,
        e.family_ref,
        case when d.n_delivered > 0 then 1 else 0 end as has_delivered
    from {{ ref('int_family_enrolment') }} as e
    left join delivered_per_family as d
        on e.period_type = d.period_type
            and e.period = d.period
            and e.family_ref = d.family_ref
            and e.school_id = d.school_id
),

family_week_months as (
    -- Each family's school weeks and messages in them, per month.
    select
        school_year, month, sector, board_id, school_id, ses_group, family_ref,
        count(*) as n_weeks, sum(n_messages) as n_messages
    from {{ family_weeks }}
    group by school_year, month, sector, board_id, school_id, ses_group, family_ref
),

family_dose as (
    -- Messages per school week of each family: messages in the family's school weeks of the
    -- period / its number of school weeks in the period.
    select
        'month' as period_type, f.month as period, f.school_year, f.sector, f.board_id,
        f.school_id, f.ses_group, f.family_ref,
        cast(f.n_messages as {{ type_double() }}) / f.n_weeks as messages_per_week
    from family_week_months as f
    where {{ is_a_period("'month'", 'f.month') }}
    union all
    select
        'school_year' as period_type, f.school_year as period, f.school_year, f.sector,
        f.board_id, f.school_id, f.ses_group, f.family_ref,
        cast(sum(f.n_messages) as {{ type_double() }}) / sum(f.n_weeks) as messages_per_week
    from family_week_months as f
    where {{ is_a_period("'school_year'", 'f.school_year') }}
    group by f.school_year, f.sector, f.board_id, f.school_id, f.ses_group, f.family_ref
)

{{ months_and_school_years('month_stats') }}
union all
{{ indicator_base('message_reach', 'family_delivered', 'has_delivered') }}
union all
{{ indicator_base('message_dose', 'family_dose', 'messages_per_week') }}
