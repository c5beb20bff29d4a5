-- Contact indicators at school x SES group x period (sufficient statistics, see macro
-- indicator_base). Family-based indicators count enrolled families (a family counts in a
-- period when enrolled >= 1 day); contact-based ones count contacts.
with contacts as (
    {{ expand_to_periods(ref('int_contacts')) }}
),

held_per_family as (
    -- Held contacts per family, school and period (pre-aggregated for an equi-join).
    select
        period_type,
        period,
        family_ref,
        school_id,
        count(*) as held_contacts,
        sum(case when is_individual then 1 else 0 end) as held_individual,
        sum(case when channel = 'huisbezoek' then 1 else 0 end) as held_home_visits
    from contacts
    where is_held
    group by period_type, period, family_ref, school_id
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

{{ indicator_base('contact_frequency', 'family_contacts', 'held_contacts') }}
union all
{{ indicator_base('contact_reach', 'family_contacts',
                  'case when held_individual > 0 then 1 else 0 end') }}
union all
{{ indicator_base('contact_home_visits', 'family_contacts', '100.0 * held_home_visits') }}
union all
{{ indicator_base('contact_parent_initiated', 'contacts',
                  "case when initiated_by = 'ouder' then 1 else 0 end", where='is_held') }}
union all
{{ indicator_base('contact_no_show', 'contacts',
                  "case when status = 'niet_verschenen' then 1 else 0 end",
                  where="is_scheduled and status in ('gehouden', 'niet_verschenen')") }}
union all
{{ indicator_base('contact_support_topic', 'contacts',
                  "case when topic in ('thuisondersteuning', 'leervorderingen') then 1 else 0 end",
                  where='is_held and is_individual') }}
