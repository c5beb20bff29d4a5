-- Survey indicators at school x SES group x period (sufficient statistics, see macro
-- indicator_base): each item unweighted and weighted (_weighted, post-stratification weight
-- from int_survey_weights; respondents without a weight are left out of the weighted rows), and
-- survey_response_rate = responses / enrolled families of the same SES group.
with responses as (
    {{ expand_to_periods(ref('int_survey_responses')) }}
),

response_counts as (
    select
        period_type, period, school_year, sector, board_id, school_id, ses_group,
        count(*) as n_responses
    from responses
    group by period_type, period, school_year, sector, board_id, school_id, ses_group
),

population as (
    select
        period_type, period, school_year, sector, board_id, school_id, ses_group,
        count(*) as n_families
    from {{ ref('int_family_enrolment') }}
    group by period_type, period, school_year, sector, board_id, school_id, ses_group
),

response_rate as (
    -- Unit: the enrolled family (n); the numerator is the number of responses, which is not
    -- a 0/1 per family (responses need not carry a family_ref), so the sums are set directly:
    -- sum_wxx = responses treats each response as a 0/1 success. More responses than families
    -- (both parents answered) would give a "share" above 1 and no valid Wilson interval, so the
    -- numerator is capped at the number of families: the rate is then 100 %.
    select
        'survey_response_rate' as indicator_code,
        p.period_type, p.period, p.school_year, p.sector, p.board_id, p.school_id, p.ses_group,
        p.n_families as n,
        cast(p.n_families as {{ type_double() }}) as sum_w,
        cast(least(coalesce(r.n_responses, 0), p.n_families) as {{ type_double() }}) as sum_wx,
        cast(least(coalesce(r.n_responses, 0), p.n_families) as {{ type_double() }}) as sum_wxx,
        cast(p.n_families as {{ type_double() }}) as sum_ww
    from population as p
    left join response_counts as r
        on p.period_type = r.period_type and p.period = r.period and p.school_id = r.school_id
            and p.ses_group = r.ses_group
    -- only periods in which the school ran a survey
    where exists (
            select 1 from response_counts as rc
            where rc.period_type = p.period_type and rc.period = p.period
                and rc.school_id = p.school_id
        )
)

{{ indicator_base('tip_usefulness', 'responses', 'tip_usefulness') }}
union all
{{ indicator_base('tip_usefulness_weighted', 'responses', 'tip_usefulness', weight='weight', where='weight > 0') }}
union all
{{ indicator_base('tips_received', 'responses', 'tips_received') }}
union all
{{ indicator_base('tips_received_weighted', 'responses', 'tips_received', weight='weight', where='weight > 0') }}
union all
{{ indicator_base('support_no_contact', 'responses', 'support_no_contact') }}
union all
{{ indicator_base('support_no_contact_weighted', 'responses', 'support_no_contact', weight='weight', where='weight > 0') }}
union all
{{ indicator_base('comm_grade', 'responses', 'comm_grade') }}
union all
{{ indicator_base('comm_grade_weighted', 'responses', 'comm_grade', weight='weight', where='weight > 0') }}
union all
{{ indicator_base('contact_insufficient', 'responses', 'contact_insufficient') }}
union all
{{ indicator_base('contact_insufficient_weighted', 'responses', 'contact_insufficient', weight='weight', where='weight > 0') }}
union all
{{ indicator_base('talk_daily', 'responses', 'talk_daily') }}
union all
{{ indicator_base('talk_daily_weighted', 'responses', 'talk_daily', weight='weight', where='weight > 0') }}
union all
{{ indicator_base('read_aloud_weekly', 'responses', 'read_aloud_weekly') }}
union all
{{ indicator_base('read_aloud_weekly_weighted', 'responses', 'read_aloud_weekly', weight='weight', where='weight > 0') }}
union all
{{ indicator_base('homework_help_weekly', 'responses', 'homework_help_weekly') }}
union all
{{ indicator_base('homework_help_weekly_weighted', 'responses', 'homework_help_weekly', weight='weight', where='weight > 0') }}
union all
{{ indicator_base('helps_school', 'responses', 'helps_school') }}
union all
{{ indicator_base('helps_school_weighted', 'responses', 'helps_school', weight='weight', where='weight > 0') }}
union all
{{ indicator_base('can_contribute', 'responses', 'can_contribute') }}
union all
{{ indicator_base('can_contribute_weighted', 'responses', 'can_contribute', weight='weight', where='weight > 0') }}
union all
{{ indicator_base('expectations_clear', 'responses', 'expectations_clear') }}
union all
{{ indicator_base('expectations_clear_weighted', 'responses', 'expectations_clear', weight='weight', where='weight > 0') }}
union all
{{ indicator_base('teacher_open', 'responses', 'teacher_open') }}
union all
{{ indicator_base('teacher_open_weighted', 'responses', 'teacher_open', weight='weight', where='weight > 0') }}
union all
select * from response_rate
