-- Message indicators at school x SES group x period (sufficient statistics, see macro
-- indicator_base).
with messages as (
    {{ expand_to_periods(ref('int_messages')) }}
),

delivered_per_family as (
    -- Delivered messages per family, school and period (pre-aggregated for an equi-join).
    select period_type, period, family_ref, school_id, count(*) as n_delivered
    from messages
    where is_delivered
    group by period_type, period, family_ref, school_id
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

family_weeks as (
    {{ expand_to_periods(ref('int_family_weeks')) }}
),

family_dose as (
    -- Messages per school week of each family: messages in the family's school weeks of the
    -- period / its number of school weeks in the period.
    select
        period_type, period, school_year, sector, board_id, school_id, ses_group, family_ref,
        cast(sum(n_messages) as {{ type_double() }}) / count(*) as messages_per_week
    from family_weeks
    group by period_type, period, school_year, sector, board_id, school_id, ses_group, family_ref
)

{{ indicator_base('message_delivery_rate', 'messages',
                  'case when is_delivered then 1 else 0 end') }}
union all
{{ indicator_base('message_read_rate', 'messages', 'case when is_read then 1 else 0 end',
                  where="is_delivered and channel in ('app', 'whatsapp', 'email')") }}
union all
{{ indicator_base('message_reach', 'family_delivered', 'has_delivered') }}
union all
{{ indicator_base('message_dose', 'family_dose', 'messages_per_week') }}
union all
{{ indicator_base('message_overdose', 'family_weeks',
                  'case when n_messages > ' ~ var('overdose_threshold') ~ ' then 1 else 0 end') }}
union all
{{ indicator_base('message_effective_purpose', 'messages',
                  "case when purpose in ('voortgang', 'tip', 'aanmoediging') then 1 else 0 end") }}
union all
{{ indicator_base('message_reply_rate', 'messages', 'case when has_replied then 1 else 0 end',
                  where='is_delivered') }}
union all
{{ indicator_base('tip_feedback_useful', 'messages',
                  "case when latest_feedback = 'nuttig' then 1 else 0 end",
                  where="purpose = 'tip' and latest_feedback is not null") }}
