-- "Bereiken we alle gezinnen?": per school year, sector, board and school the headline
-- indicators for laag and hoog side by side, the gap laag - hoog in the unit board staff read
-- (procentpunt for shares), its 95% interval and significance, and the change since the
-- previous school year. Built only on published (suppressed) fct_indicator rows, so nothing
-- here reveals more than fct_indicator does. Carries board_id for row-level security.
{% set headlines = [
    ('contact_reach', 1, 'procentpunt'),
    ('contact_frequency', 2, 'contacten per gezin'),
    ('message_delivery_rate', 3, 'procentpunt'),
    ('message_read_rate', 4, 'procentpunt'),
    ('message_reach', 5, 'procentpunt'),
    ('tip_usefulness', 6, 'procentpunt'),
    ('comm_grade', 7, 'cijferpunt'),
] %}
with headline as (
    {% for code, position, gap_unit in headlines %}
        select
            '{{ code }}' as indicator_code, {{ position }} as display_order,
            '{{ gap_unit }}' as gap_unit_label
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

cells as (
    select
        f.*, h.display_order, h.gap_unit_label, c.indicator_label, c.unit,
        case when c.unit = 'aandeel' then 100.0 else 1.0 end as scale
    from {{ ref('fct_indicator') }} as f
    inner join headline as h on f.indicator_code = h.indicator_code
    inner join {{ ref('indicator_catalogue') }} as c on f.indicator_code = c.indicator_code
    where f.period_type = 'school_year' and f.ses_group in ('laag', 'hoog')
),

gaps as (
    select f.*, g.indicator_code as base_code
    from {{ ref('fct_indicator') }} as f
    inner join headline as g on f.indicator_code = g.indicator_code || '_gap'
    where f.period_type = 'school_year'
),

joined as (
    select
        l.period, l.school_year, l.sector, l.board_id, l.school_id,
        l.indicator_code, l.indicator_label, l.unit, l.display_order, l.gap_unit_label, l.scale,
        l.value * l.scale as laag_value, l.ci_low * l.scale as laag_ci_low,
        l.ci_high * l.scale as laag_ci_high, l.n as laag_n, l.suppressed as laag_suppressed,
        h.value * h.scale as hoog_value, h.ci_low * h.scale as hoog_ci_low,
        h.ci_high * h.scale as hoog_ci_high, h.n as hoog_n, h.suppressed as hoog_suppressed,
        g.value * l.scale as gap_value, g.ci_low * l.scale as gap_ci_low,
        g.ci_high * l.scale as gap_ci_high,
        coalesce(g.suppressed, true) or g.value is null as gap_suppressed,
        coalesce(g.gap_significant, false) and not coalesce(g.suppressed, true) as gap_significant
    from cells as l
    inner join cells as h
        on l.indicator_code = h.indicator_code and l.period = h.period and l.sector = h.sector
            and l.board_id = h.board_id and l.school_id = h.school_id and h.ses_group = 'hoog'
    left join gaps as g
        on l.indicator_code = g.base_code and l.period = g.period and l.sector = g.sector
            and l.board_id = g.board_id and l.school_id = g.school_id
    where l.ses_group = 'laag'
),

with_previous as (
    select
        j.*,
        p.gap_value as previous_gap_value,
        p.gap_ci_low as previous_gap_ci_low,
        p.gap_ci_high as previous_gap_ci_high,
        -- Standard errors from the 95% intervals; the change is significant when it exceeds
        -- 1.96 standard errors of the difference of two independent years.
        sqrt(
            power((j.gap_ci_high - j.gap_ci_low) / (2 * 1.959964), 2)
            + power((p.gap_ci_high - p.gap_ci_low) / (2 * 1.959964), 2)
        ) as change_se
    from joined as j
    left join joined as p
        on j.indicator_code = p.indicator_code and j.sector = p.sector
            and j.board_id = p.board_id and j.school_id = p.school_id
            and p.school_year = cast(cast(left(j.school_year, 4) as integer) - 1 as {{ type_text() }})
            || '-' || left(j.school_year, 4)
            and not p.gap_suppressed
),

flagged as (
    select
        *,
        gap_value - previous_gap_value as gap_change,
        not gap_suppressed and previous_gap_value is not null and change_se > 0
        and abs(gap_value) > abs(previous_gap_value)
        and abs(gap_value - previous_gap_value) > 1.959964 * change_se as gap_widened,
        not gap_suppressed and previous_gap_value is not null and change_se > 0
        and abs(gap_value) < abs(previous_gap_value)
        and abs(gap_value - previous_gap_value) > 1.959964 * change_se as gap_narrowed
    from with_previous
),

texts as (
    select
        f.*,
        case when f.board_id = 'ALL' then 2 when f.school_id = 'ALL' then 1 else 0 end
            as level_rank,
        case when f.board_id = 'ALL' then 'Alle besturen' else b.board_name end as board_name,
        case when f.school_id = 'ALL' then 'Alle scholen' else s.school_name end as school_name
    from flagged as f
    left join (
        select board_id, min(board_name) as board_name from {{ ref('stg_schools') }}
        group by board_id
    ) as b
        on f.board_id = b.board_id
    left join {{ ref('stg_schools') }} as s on f.school_id = s.school_id
),

rows_out as (
    select
        'school_year' as period_type, period, school_year, sector, board_id, board_name,
        school_id, school_name, level_rank, indicator_code, indicator_label, unit, display_order,
        gap_unit_label,
        laag_value, laag_ci_low, laag_ci_high, laag_n, laag_suppressed,
        hoog_value, hoog_ci_low, hoog_ci_high, hoog_n, hoog_suppressed,
        gap_value, gap_ci_low, gap_ci_high, gap_suppressed, gap_significant,
        previous_gap_value, gap_change, coalesce(gap_widened, false) as gap_widened,
        coalesce(gap_narrowed, false) as gap_narrowed,
        -- Dutch texts for tables: a table cell is never empty and never 'N/A'.
        case when laag_suppressed then 'onderdrukt (n<10)'
            else
                (case when unit = 'aandeel' then {{ format_decimal_nl('laag_value', 1) }} else {{ format_decimal_nl('laag_value', 2) }} end)
                || case when unit = 'aandeel' then ' %' else '' end
                || coalesce(
                    ' (' || (case when unit = 'aandeel' then {{ format_decimal_nl('laag_ci_low', 1) }} else {{ format_decimal_nl('laag_ci_low', 2) }} end) || '–'
                    || (case when unit = 'aandeel' then {{ format_decimal_nl('laag_ci_high', 1) }} else {{ format_decimal_nl('laag_ci_high', 2) }} end) || ')', ''
                )
        end
            as laag_text,
        case when hoog_suppressed then 'onderdrukt (n<10)'
            else
                (case when unit = 'aandeel' then {{ format_decimal_nl('hoog_value', 1) }} else {{ format_decimal_nl('hoog_value', 2) }} end)
                || case when unit = 'aandeel' then ' %' else '' end
                || coalesce(
                    ' (' || (case when unit = 'aandeel' then {{ format_decimal_nl('hoog_ci_low', 1) }} else {{ format_decimal_nl('hoog_ci_low', 2) }} end) || '–'
                    || (case when unit = 'aandeel' then {{ format_decimal_nl('hoog_ci_high', 1) }} else {{ format_decimal_nl('hoog_ci_high', 2) }} end) || ')', ''
                )
        end
            as hoog_text,
        case when gap_suppressed then 'onderdrukt (n<10)'
            else replace((case when unit = 'aandeel' then {{ format_decimal_nl('(round(gap_value, 1) + 0.0)', 1) }} else {{ format_decimal_nl('(round(gap_value, 2) + 0.0)', 2) }} end), '-', '−') || ' ' || gap_unit_label
        end as gap_text,
        case when gap_suppressed or gap_ci_low is null then 'onderdrukt (n<10)'
            else replace(
                    (case when unit = 'aandeel' then {{ format_decimal_nl('(round(gap_ci_low, 1) + 0.0)', 1) }} else {{ format_decimal_nl('(round(gap_ci_low, 2) + 0.0)', 2) }} end) || ' tot '
                    || (case when unit = 'aandeel' then {{ format_decimal_nl('(round(gap_ci_high, 1) + 0.0)', 1) }} else {{ format_decimal_nl('(round(gap_ci_high, 2) + 0.0)', 2) }} end), '-', '−'
                )
        end
            as gap_interval_text,
        case when gap_suppressed then '■ onderdrukt: te weinig gezinnen (n<10)'
            when gap_significant and gap_value < 0 then '▼ laag blijft significant achter'
            when gap_significant and gap_value > 0 then '▲ laag significant hoger'
            else '● geen significant verschil'
        end as signal_text,
        case when gap_suppressed then 'onderdrukt (n<10)'
            when previous_gap_value is null then 'geen vergelijking met vorig jaar'
            when gap_widened
                then '↑ significant groter geworden (was '
                    || replace((case when unit = 'aandeel' then {{ format_decimal_nl('(round(previous_gap_value, 1) + 0.0)', 1) }} else {{ format_decimal_nl('(round(previous_gap_value, 2) + 0.0)', 2) }} end), '-', '−') || ')'
            when gap_narrowed
                then '↓ significant kleiner geworden (was '
                    || replace((case when unit = 'aandeel' then {{ format_decimal_nl('(round(previous_gap_value, 1) + 0.0)', 1) }} else {{ format_decimal_nl('(round(previous_gap_value, 2) + 0.0)', 2) }} end), '-', '−') || ')'
            else '→ niet significant veranderd (was '
                || replace((case when unit = 'aandeel' then {{ format_decimal_nl('(round(previous_gap_value, 1) + 0.0)', 1) }} else {{ format_decimal_nl('(round(previous_gap_value, 2) + 0.0)', 2) }} end), '-', '−') || ')'
        end
            as trend_text,
        -- 0 = laag significantly behind or a significantly widened gap, 1 = other published,
        -- 2 = suppressed: tables sort on this and the gap, never on display text.
        case when gap_suppressed then 2
            when (gap_significant and gap_value < 0) or coalesce(gap_widened, false) then 0
            else 1
        end as signal_rank
    from texts
),

-- One sentence per school year, sector, board and school: the answer in words.
summary as (
    select
        period, sector, board_id, school_id,
        count(*) filter (where not gap_suppressed) as n_published,
        count(*) filter (where gap_significant and gap_value < 0) as n_behind,
        count(*) filter (where gap_widened) as n_widened,
        {{ string_agg_ordered(
            "case when gap_significant and gap_value < 0"
            ~ " then lower(indicator_label) || ' (' || gap_text || ')' end",
            "'; '", 'display_order') }} as behind_list
    from rows_out
    group by period, sector, board_id, school_id
)

select
    r.*,
    case
        when s.n_published = 0
            then 'Te weinig gezinnen per SES-groep om de kloof te tonen (onderdrukt, n<10).'
        when s.n_behind = 0
            then 'Bij geen van de ' || s.n_published || ' gepubliceerde kerncijfers blijven '
                || 'gezinnen met laag opgeleide ouders significant achter bij hoog opgeleide.'
        else 'Bij ' || s.n_behind || ' van de ' || s.n_published
            || ' getoonde kerncijfers blijven '
            || 'gezinnen met laag opgeleide ouders significant achter: ' || s.behind_list || '.'
    end
    || case when s.n_widened = 1 then ' Eén kloof werd significant groter dan vorig jaar.'
        when s.n_widened > 1
            then ' ' || s.n_widened
                || ' kloven werden significant groter dan vorig jaar.'
        else ''
    end as summary_text,
    s.n_behind as summary_n_behind,
    s.n_widened as summary_n_widened
from rows_out as r
inner join summary as s
    on r.period = s.period and r.sector = s.sector and r.board_id = s.board_id
        and r.school_id = s.school_id
