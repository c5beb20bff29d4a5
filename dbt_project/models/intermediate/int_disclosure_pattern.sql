-- Which base-indicator cells disclosure control hides: the hypercube method (docs/DISCLOSURE.md;
-- after Repsilber's GHMITER in tau-ARGUS), set-based.
--
-- A base indicator is a set of linked tables: every total equals the sum of its parts along
-- three dimensions, SES (ALL = laag + midden + hoog + onbekend), geography (sector = its
-- boards, board = its schools) and time (school year = its months, for indicators whose
-- numerator and denominator add up over months; for the others a month never exceeds its
-- school year). A hidden cell cannot be worked back exactly when some OTHER table, equal in
-- everything published, differs in that cell. For every primary cell (n < min_cell_size) we
-- therefore hide the corners of a hypercube: one 1-D pattern per dimension whose +1/-1 steps
-- keep that dimension's sums (SES: the cell and another group with the opposite sign, or the
-- cell and its total with the same sign; time: another month, or the month and its school
-- year; geography: a sibling school, or the chain school - board - sector), and their product
-- keeps every sum of every dimension. Adding +1 (or -1 everywhere) to the numerators of the
-- corners gives that other table, so it must stay within each corner's bounds
-- (value_min/value_max x denominator; a month below its school year): a cube is only chosen
-- when it is feasible. Every hidden cell is a corner of a feasible cube, so none is pinned.
-- Partners are picked in order of least value for the question: SES onbekend, then midden,
-- then the total, laag and hoog last; then other months before the school year; then a
-- sibling school before the board and sector.
-- `protected` is false for a primary cell without a feasible cube among the candidates; the
-- test in _intermediate.yml fails the build then, so no such pattern is published.
{{
    config(
        materialized=incremental_materialization('school_year', in_full_on_spark=true),
        incremental_strategy=incremental_strategy_for('school_year'),
        partition_by=incremental_partition_by('school_year'),
        unique_key='school_year',
        on_schema_change='sync_all_columns',
        post_hook="{{ delete_stale_school_years(ref('int_periods')) }}"
    )
}}
-- Incremental by school year: every cube lies within one school year (SES and geography
-- partners share the period, time partners the school year), so a build replaces the school
-- years it planned. What crosses the years is whether an indicator adds up over months: that
-- is decided over every year, and a kept year stored under the other decision is rebuilt too.
{%- set min_n = var('min_cell_size') %}
{%- set cell_key = ['indicator_code', 'period_type', 'period', 'sector', 'board_id', 'school_id', 'ses_group'] %}
with all_base_values as (
    select
        v.indicator_code, v.period_type, v.period, v.school_year, v.sector, v.board_id,
        v.school_id, v.ses_group, v.numerator, v.denominator, v.n,
        c.value_min, c.value_max
    from {{ ref('int_indicator_values') }} as v
    inner join {{ ref('indicator_catalogue') }} as c on v.indicator_code = c.indicator_code
    where c.variant = 'base'
),

month_sums as (
    select
        indicator_code, school_year, sector, board_id, school_id, ses_group,
        sum(numerator) as numerator, sum(denominator) as denominator,
        max(numerator) as max_month_numerator
    from all_base_values
    where period_type = 'month'
    group by indicator_code, school_year, sector, board_id, school_id, ses_group
),

-- An indicator adds up over months when every school year's numerator and denominator equal
-- the sums of its months (contacts, messages); not for counts of distinct families (reach).
month_additivity as (
    select
        y.indicator_code,
        min(case when abs(y.numerator - coalesce(m.numerator, 0)) <= 1e-6
                and abs(y.denominator - coalesce(m.denominator, 0)) <= 1e-6
                then 1
            else 0
        end) as month_additive
    from all_base_values as y
    left join month_sums as m
        on y.indicator_code = m.indicator_code and y.school_year = m.school_year
            and y.sector = m.sector and y.board_id = m.board_id and y.school_id = m.school_id
            and y.ses_group = m.ses_group
    where y.period_type = 'school_year'
    group by y.indicator_code
),

-- The school years this build replaces: every year on a full build; else the planned years
-- and any kept year whose stored decision on adding up over months is no longer the current one.
rebuilt_years as (
    select distinct school_year
    from all_base_values
    {% if is_incremental() %}
    where {{ school_year_filter('school_year') }}
    union
    select distinct t.school_year
    from {{ this }} as t
    left join month_additivity as a on t.indicator_code = a.indicator_code
    where t.month_additive <> coalesce(a.month_additive, 1)
    {% endif %}
),

base_values as (
    select b.*
    from all_base_values as b
    inner join rebuilt_years as r on b.school_year = r.school_year
),

-- Can a corner's numerator move by one unit up / down and stay within what is published?
cells as (
    select
        b.*,
        coalesce(a.month_additive, 1) as month_additive,
        (b.value_max is null or b.numerator + 1 <= b.value_max * b.denominator + 1e-9)
        and (
            coalesce(a.month_additive, 1) = 1 or b.period_type <> 'month'
            or b.numerator + 1 <= y.numerator + 1e-9
        ) as can_up,
        b.numerator - 1 >= b.value_min * b.denominator - 1e-9
        and (
            coalesce(a.month_additive, 1) = 1 or b.period_type <> 'school_year'
            or b.numerator - 1 >= coalesce(m.max_month_numerator, 0) - 1e-9
        ) as can_down,
        -- the same within the cell's own bounds only: when a month and its school year take
        -- the step together, the month stays below its school year
        (b.value_max is null or b.numerator + 1 <= b.value_max * b.denominator + 1e-9) as can_up_own,
        b.numerator - 1 >= b.value_min * b.denominator - 1e-9 as can_down_own
    from base_values as b
    left join month_additivity as a on b.indicator_code = a.indicator_code
    left join base_values as y
        on b.period_type = 'month' and y.period_type = 'school_year'
            and b.indicator_code = y.indicator_code and b.school_year = y.period
            and b.sector = y.sector and b.board_id = y.board_id and b.school_id = y.school_id
            and b.ses_group = y.ses_group
    left join month_sums as m
        on b.period_type = 'school_year' and b.indicator_code = m.indicator_code
            and b.period = m.school_year and b.sector = m.sector and b.board_id = m.board_id
            and b.school_id = m.school_id and b.ses_group = m.ses_group
),

primaries as (
    select
        row_number() over (order by {{ cell_key | join(', ') }}) as pid,
        c.*
    from cells as c
    where c.n < {{ min_n }}
),

-- SES pattern: (the cell, +1) and (partner, sign)
ses_options as (
    select pid, ses_rank, partner, partner_sign
    from (
        select
            p.pid,
            o.ses_group as partner,
            case when p.ses_group = 'ALL' or o.ses_group = 'ALL' then 1 else -1 end as partner_sign,
            row_number() over (
                partition by p.pid
                order by case o.ses_group when 'onbekend' then 1 when 'midden' then 2
                    when 'ALL' then 3 else 4
                end,
                -- a partner that can take the opposite (or, for the total, the same)
                -- step first
                case when (case when p.ses_group = 'ALL' or o.ses_group = 'ALL'
                            then ((p.can_up and o.can_up) or (p.can_down and o.can_down))
                        else ((p.can_up and o.can_down) or (p.can_down and o.can_up))
                    end)
                        then 0
                    else 1
                end,
                o.n desc, o.ses_group asc
            ) as ses_rank
        from primaries as p
        inner join cells as o
            on p.indicator_code = o.indicator_code and p.period_type = o.period_type
                and p.period = o.period and p.sector = o.sector and p.board_id = o.board_id
                and p.school_id = o.school_id and o.ses_group <> p.ses_group
                -- the total's partner is one of its groups
                and (p.ses_group <> 'ALL' or o.ses_group <> 'ALL')
    ) as ranked
),

ses_coords as (
    select p.pid, s.ses_rank, p.ses_group, 1 as sign
    from primaries as p inner join ses_options as s on p.pid = s.pid
    union all
    select pid, ses_rank, partner as ses_group, partner_sign as sign
    from ses_options
),

-- time pattern: another month (-1) or the school year (+1) for a month, a month (+1) for a
-- school year; nothing for indicators that do not add up over months
time_options as (
    select
        pid,
        row_number() over (partition by pid order by type_order asc, room_order asc, n desc, partner_period asc) as time_rank,
        partner_type, partner_period, partner_sign
    from (
        select
            p.pid,
            o.period_type as partner_type,
            o.period as partner_period,
            case when o.period_type = p.period_type then -1 else 1 end as partner_sign,
            row_number() over (
                partition by p.pid, o.period_type
                order by case when (case when o.period_type = p.period_type
                            then ((p.can_up and o.can_down) or (p.can_down and o.can_up))
                        else ((p.can_up and o.can_up) or (p.can_down and o.can_down))
                    end)
                        then 0
                    else 1
                end,
                o.n desc, o.period asc
            ) as rank_in_type,
            case when o.period_type = p.period_type then 0 else 1 end as type_order,
            case when (case when o.period_type = p.period_type
                        then ((p.can_up and o.can_down) or (p.can_down and o.can_up))
                    else ((p.can_up and o.can_up) or (p.can_down and o.can_down))
                end)
                    then 0
                else 1
            end as room_order,
            o.n
        from primaries as p
        inner join cells as o
            on p.indicator_code = o.indicator_code and p.school_year = o.school_year
                and p.sector = o.sector and p.board_id = o.board_id and p.school_id = o.school_id
                and p.ses_group = o.ses_group and p.period <> o.period
                and (p.period_type = 'month' or o.period_type = 'month')
        where p.month_additive = 1
    ) as ranked
    -- two other months (the ones with room first) and the school year; a school year's
    -- three months with the most room
    where rank_in_type <= (case when partner_type = 'school_year' then 1
            when type_order = 0 then 2 else 3
        end)
    union all
    -- not additive: the cell alone, else the cell with its school year (a month) or with its
    -- fullest month (a school year), both the same step
    select
        pid, 1 as time_rank, cast(null as {{ type_text() }}) as partner_type,
        cast(null as {{ type_text() }}) as partner_period, 0 as partner_sign
    from primaries
    where month_additive = 0
    union all
    select pid, 2 as time_rank, partner_type, partner_period, 1 as partner_sign
    from (
        select
            p.pid, o.period_type as partner_type, o.period as partner_period,
            row_number() over (partition by p.pid order by o.numerator desc, o.period asc) as fullest
        from primaries as p
        inner join cells as o
            on p.indicator_code = o.indicator_code and p.school_year = o.school_year
                and p.sector = o.sector and p.board_id = o.board_id and p.school_id = o.school_id
                and p.ses_group = o.ses_group and p.period_type <> o.period_type
        where p.month_additive = 0
    ) as linked
    where fullest = 1
),

time_coords as (
    select
        p.pid, t.time_rank, p.period_type, p.period, 1 as sign,
        case when p.month_additive = 0 and t.partner_type is not null then 1 else 0 end as linked
    from primaries as p inner join time_options as t on p.pid = t.pid
    union all
    select
        o.pid, o.time_rank, o.partner_type as period_type, o.partner_period as period,
        o.partner_sign as sign, case when p.month_additive = 0 then 1 else 0 end as linked
    from time_options as o inner join primaries as p on o.pid = p.pid
    where o.partner_type is not null
),

-- geography pattern, as (board_id, school_id, sign) rows per option
geo_siblings as (
    -- a school and another school of its board (-1)
    select pid, geo_rank, board_id, school_id, sign
    from (
        select
            p.pid, p.board_id, o.school_id,
            row_number() over (
                partition by p.pid
                order by
                    case when ((p.can_up and o.can_down) or (p.can_down and o.can_up)) then 0 else 1 end,
                    o.n desc, o.school_id asc
            ) as geo_rank
        from primaries as p
        inner join cells as o
            on p.indicator_code = o.indicator_code and p.period_type = o.period_type
                and p.period = o.period and p.sector = o.sector and p.board_id = o.board_id
                and p.ses_group = o.ses_group
                and o.school_id <> 'ALL' and p.school_id <> o.school_id
        where p.school_id <> 'ALL'
    ) as ranked
    cross join (select -1 as sign) as s
    where geo_rank <= 2
),

geo_down as (
    -- the school (of a board) or the board and its school (of a sector) that carries a
    -- total's step down to the finest grain
    select pid, geo_rank, board_id, school_id
    from (
        select
            p.pid, o.board_id, o.school_id,
            row_number() over (
                partition by p.pid
                order by
                    case when ((p.can_up and o.can_up) or (p.can_down and o.can_down)) then 0 else 1 end,
                    o.n desc, o.board_id asc, o.school_id asc
            ) as geo_rank
        from primaries as p
        inner join cells as o
            on p.indicator_code = o.indicator_code and p.period_type = o.period_type
                and p.period = o.period and p.sector = o.sector and p.ses_group = o.ses_group
                and o.school_id <> 'ALL'
                and (p.board_id = 'ALL' or p.board_id = o.board_id)
        where p.school_id = 'ALL'
    ) as ranked
    where geo_rank <= 2
),

geo_coords as (
    -- school, sibling option: the school (+1) and the sibling (-1)
    select g.pid, g.geo_rank, p.board_id, p.school_id, 1 as sign
    from geo_siblings as g inner join primaries as p on g.pid = p.pid
    union all
    select pid, geo_rank, board_id, school_id, sign from geo_siblings
    -- school, chain option (after the siblings): school, board and sector (+1)
    union all
    select p.pid, 3 as geo_rank, p.board_id, p.school_id, 1 from primaries as p
    where p.school_id <> 'ALL'
    union all
    select p.pid, 3, p.board_id, 'ALL', 1 from primaries as p
    where p.school_id <> 'ALL'
    union all
    select p.pid, 3, 'ALL', 'ALL', 1 from primaries as p
    where p.school_id <> 'ALL'
    -- board or sector: the total, a school below it and, for a board, the sector (+1)
    union all
    select d.pid, d.geo_rank, d.board_id, d.school_id, 1 from geo_down as d
    union all
    select d.pid, d.geo_rank, d.board_id, 'ALL', 1 from geo_down as d
    union all
    select d.pid, d.geo_rank, 'ALL', 'ALL', 1 from geo_down as d
),

-- The corners of every candidate cube. Not made distinct: a repeated corner changes neither
-- count(*) = count(numerator) nor the minima in `cubes` (region: 8 M rows, and the distinct
-- was 5 of the model's 8 s).
corners as (
    select
        p.pid, s.ses_rank, t.time_rank, g.geo_rank,
        p.indicator_code, p.sector, s.ses_group, t.period_type, t.period, g.board_id, g.school_id,
        s.sign * t.sign * g.sign as sign,
        t.linked
    from primaries as p
    inner join ses_coords as s on p.pid = s.pid
    inner join time_coords as t on p.pid = t.pid
    inner join geo_coords as g on p.pid = g.pid
),

cubes as (
    select
        k.pid, k.ses_rank, k.time_rank, k.geo_rank,
        -- every corner exists and can take the step (+1 on the + corners, or the other way)
        count(*) = count(c.numerator)
        and (min(case when (k.sign > 0 and (case when k.linked = 1 then c.can_up_own else c.can_up end))
                or (k.sign < 0 and (case when k.linked = 1 then c.can_down_own else c.can_down end))
                then 1
            else 0
        end) = 1
        or min(case when (k.sign > 0 and (case when k.linked = 1 then c.can_down_own else c.can_down end))
                or (k.sign < 0 and (case when k.linked = 1 then c.can_up_own else c.can_up end))
                then 1
            else 0
        end) = 1)
            as feasible
    from corners as k
    left join cells as c
        on k.indicator_code = c.indicator_code and k.period_type = c.period_type
            and k.period = c.period and k.sector = c.sector and k.board_id = c.board_id
            and k.school_id = c.school_id and k.ses_group = c.ses_group
    group by k.pid, k.ses_rank, k.time_rank, k.geo_rank
),

chosen as (
    select pid, ses_rank, time_rank, geo_rank, feasible
    from (
        select
            cubes.*,
            row_number() over (
                partition by cubes.pid
                order by
                    case when cubes.feasible then 0 else 1 end,
                    cubes.ses_rank, cubes.geo_rank, cubes.time_rank
            ) as choice
        from cubes
    ) as ranked
    where choice = 1
),

-- the corners of the chosen cubes only, joined again from their coordinates: reading them
-- from `corners` made DuckDB keep all candidate corners in memory for a second pass
hidden as (
    select distinct
        p.indicator_code, t.period_type, t.period, p.sector, g.board_id,
        g.school_id, s.ses_group
    from chosen as h
    inner join primaries as p on h.pid = p.pid
    inner join ses_coords as s on h.pid = s.pid and h.ses_rank = s.ses_rank
    inner join time_coords as t on h.pid = t.pid and h.time_rank = t.time_rank
    inner join geo_coords as g on h.pid = g.pid and h.geo_rank = g.geo_rank
),

unprotected as (
    select
        p.indicator_code, p.period_type, p.period, p.sector, p.board_id, p.school_id,
        p.ses_group
    from primaries as p
    left join chosen as h on p.pid = h.pid
    where not coalesce(h.feasible, false)
)

select
    c.indicator_code, c.period_type, c.period, c.school_year, c.sector, c.board_id,
    c.school_id, c.ses_group, c.n, c.month_additive,
    c.n < {{ min_n }} as is_primary,
    c.n < {{ min_n }} or h.indicator_code is not null as suppressed,
    u.indicator_code is null as protected
from cells as c
left join hidden as h
    on c.indicator_code = h.indicator_code and c.period_type = h.period_type
        and c.period = h.period and c.sector = h.sector and c.board_id = h.board_id
        and c.school_id = h.school_id and c.ses_group = h.ses_group
left join unprotected as u
    on c.indicator_code = u.indicator_code and c.period_type = u.period_type
        and c.period = u.period and c.sector = u.sector and c.board_id = u.board_id
        and c.school_id = u.school_id and c.ses_group = u.ses_group
