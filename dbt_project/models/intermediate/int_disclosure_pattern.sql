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
{%- set min_n = var('min_cell_size') %}
{%- set cell_key = ['indicator_code', 'period_type', 'period', 'sector', 'board_id', 'school_id', 'ses_group'] %}
with base_values as (
    select
        v.indicator_code, v.period_type, v.period, v.school_year, v.sector, v.board_id,
        v.school_id, v.ses_group, v.numerator, v.denominator, v.n,
        c.value_min, c.value_max
    from {{ ref('int_indicator_values') }} as v
    inner join {{ ref('indicator_catalogue') }} as c on c.indicator_code = v.indicator_code
    where c.variant = 'base'
),

month_sums as (
    select indicator_code, school_year, sector, board_id, school_id, ses_group,
           sum(numerator) as numerator, sum(denominator) as denominator,
           max(numerator) as max_month_numerator
    from base_values
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
                 then 1 else 0 end) as month_additive
    from base_values as y
    left join month_sums as m
        on m.indicator_code = y.indicator_code and m.school_year = y.school_year
       and m.sector = y.sector and m.board_id = y.board_id and m.school_id = y.school_id
       and m.ses_group = y.ses_group
    where y.period_type = 'school_year'
    group by y.indicator_code
),

-- Can a corner's numerator move by one unit up / down and stay within what is published?
cells as (
    select
        b.*,
        coalesce(a.month_additive, 1) as month_additive,
        (b.value_max is null or b.numerator + 1 <= b.value_max * b.denominator + 1e-9)
        and (coalesce(a.month_additive, 1) = 1 or b.period_type <> 'month'
             or b.numerator + 1 <= y.numerator + 1e-9) as can_up,
        b.numerator - 1 >= b.value_min * b.denominator - 1e-9
        and (coalesce(a.month_additive, 1) = 1 or b.period_type <> 'school_year'
             or b.numerator - 1 >= coalesce(m.max_month_numerator, 0) - 1e-9) as can_down,
        -- the same within the cell's own bounds only: when a month and its school year take
        -- the step together, the month stays below its school year
        (b.value_max is null or b.numerator + 1 <= b.value_max * b.denominator + 1e-9) as can_up_own,
        b.numerator - 1 >= b.value_min * b.denominator - 1e-9 as can_down_own
    from base_values as b
    left join month_additivity as a on a.indicator_code = b.indicator_code
    left join base_values as y
        on b.period_type = 'month' and y.period_type = 'school_year'
       and y.indicator_code = b.indicator_code and y.period = b.school_year
       and y.sector = b.sector and y.board_id = b.board_id and y.school_id = b.school_id
       and y.ses_group = b.ses_group
    left join month_sums as m
        on b.period_type = 'school_year' and m.indicator_code = b.indicator_code
       and m.school_year = b.period and m.sector = b.sector and m.board_id = b.board_id
       and m.school_id = b.school_id and m.ses_group = b.ses_group
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
                                          when 'ALL' then 3 else 4 end,
                         -- a partner that can take the opposite (or, for the total, the same)
                         -- step first
                         case when (case when p.ses_group = 'ALL' or o.ses_group = 'ALL'
                                         then ((p.can_up and o.can_up) or (p.can_down and o.can_down)) else ((p.can_up and o.can_down) or (p.can_down and o.can_up)) end)
                              then 0 else 1 end,
                         o.n desc, o.ses_group
            ) as ses_rank
        from primaries as p
        inner join cells as o
            on o.indicator_code = p.indicator_code and o.period_type = p.period_type
           and o.period = p.period and o.sector = p.sector and o.board_id = p.board_id
           and o.school_id = p.school_id and o.ses_group <> p.ses_group
           -- the total's partner is one of its groups
           and (p.ses_group <> 'ALL' or o.ses_group <> 'ALL')
    ) as ranked
),

ses_coords as (
    select p.pid, s.ses_rank, p.ses_group, 1 as sign
    from primaries as p inner join ses_options as s on s.pid = p.pid
    union all
    select pid, ses_rank, partner as ses_group, partner_sign as sign
    from ses_options
),

-- time pattern: another month (-1) or the school year (+1) for a month, a month (+1) for a
-- school year; nothing for indicators that do not add up over months
time_options as (
    select pid,
           row_number() over (partition by pid order by type_order, room_order, n desc, partner_period) as time_rank,
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
                                         then ((p.can_up and o.can_down) or (p.can_down and o.can_up)) else ((p.can_up and o.can_up) or (p.can_down and o.can_down)) end)
                              then 0 else 1 end,
                         o.n desc, o.period
            ) as rank_in_type,
            case when o.period_type = p.period_type then 0 else 1 end as type_order,
            case when (case when o.period_type = p.period_type
                            then ((p.can_up and o.can_down) or (p.can_down and o.can_up)) else ((p.can_up and o.can_up) or (p.can_down and o.can_down)) end)
                 then 0 else 1 end as room_order,
            o.n
        from primaries as p
        inner join cells as o
            on o.indicator_code = p.indicator_code and o.school_year = p.school_year
           and o.sector = p.sector and o.board_id = p.board_id and o.school_id = p.school_id
           and o.ses_group = p.ses_group and o.period <> p.period
           and (p.period_type = 'month' or o.period_type = 'month')
        where p.month_additive = 1
    ) as ranked
    -- two other months (the ones with room first) and the school year; a school year's
    -- three months with the most room
    where rank_in_type <= (case when partner_type = 'school_year' then 1
                                when type_order = 0 then 2 else 3 end)
    union all
    -- not additive: the cell alone, else the cell with its school year (a month) or with its
    -- fullest month (a school year), both the same step
    select pid, 1 as time_rank, cast(null as varchar) as partner_type,
           cast(null as varchar) as partner_period, 0 as partner_sign
    from primaries
    where month_additive = 0
    union all
    select pid, 2 as time_rank, partner_type, partner_period, 1 as partner_sign
    from (
        select
            p.pid, o.period_type as partner_type, o.period as partner_period,
            row_number() over (partition by p.pid order by o.numerator desc, o.period) as fullest
        from primaries as p
        inner join cells as o
            on o.indicator_code = p.indicator_code and o.school_year = p.school_year
           and o.sector = p.sector and o.board_id = p.board_id and o.school_id = p.school_id
           and o.ses_group = p.ses_group and o.period_type <> p.period_type
        where p.month_additive = 0
    ) as linked
    where fullest = 1
),

time_coords as (
    select p.pid, t.time_rank, p.period_type, p.period, 1 as sign,
           case when p.month_additive = 0 and t.partner_type is not null then 1 else 0 end as linked
    from primaries as p inner join time_options as t on t.pid = p.pid
    union all
    select o.pid, o.time_rank, o.partner_type as period_type, o.partner_period as period,
           o.partner_sign as sign, case when p.month_additive = 0 then 1 else 0 end as linked
    from time_options as o inner join primaries as p on p.pid = o.pid
    where o.partner_type is not null
),

-- geography pattern, as (board_id, school_id, sign) rows per option
geo_siblings as (
    -- a school and another school of its board (-1)
    select pid, geo_rank, board_id, school_id, sign
    from (
        select
            p.pid, p.board_id, o.school_id,
            row_number() over (partition by p.pid
                               order by case when ((p.can_up and o.can_down) or (p.can_down and o.can_up)) then 0 else 1 end,
                                        o.n desc, o.school_id) as geo_rank
        from primaries as p
        inner join cells as o
            on o.indicator_code = p.indicator_code and o.period_type = p.period_type
           and o.period = p.period and o.sector = p.sector and o.board_id = p.board_id
           and o.ses_group = p.ses_group
           and o.school_id <> 'ALL' and o.school_id <> p.school_id
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
            row_number() over (partition by p.pid
                               order by case when ((p.can_up and o.can_up) or (p.can_down and o.can_down)) then 0 else 1 end,
                                        o.n desc, o.board_id, o.school_id) as geo_rank
        from primaries as p
        inner join cells as o
            on o.indicator_code = p.indicator_code and o.period_type = p.period_type
           and o.period = p.period and o.sector = p.sector and o.ses_group = p.ses_group
           and o.school_id <> 'ALL'
           and (p.board_id = 'ALL' or o.board_id = p.board_id)
        where p.school_id = 'ALL'
    ) as ranked
    where geo_rank <= 2
),

geo_coords as (
    -- school, sibling option: the school (+1) and the sibling (-1)
    select g.pid, g.geo_rank, p.board_id, p.school_id, 1 as sign
    from geo_siblings as g inner join primaries as p on p.pid = g.pid
    union all
    select pid, geo_rank, board_id, school_id, sign from geo_siblings
    -- school, chain option (after the siblings): school, board and sector (+1)
    union all
    select p.pid, 3 as geo_rank, p.board_id, p.school_id, 1 from primaries as p where p.school_id <> 'ALL'
    union all
    select p.pid, 3, p.board_id, 'ALL', 1 from primaries as p where p.school_id <> 'ALL'
    union all
    select p.pid, 3, 'ALL', 'ALL', 1 from primaries as p where p.school_id <> 'ALL'
    -- board or sector: the total, a school below it and, for a board, the sector (+1)
    union all
    select d.pid, d.geo_rank, d.board_id, d.school_id, 1 from geo_down as d
    union all
    select d.pid, d.geo_rank, d.board_id, 'ALL', 1 from geo_down as d
    union all
    select d.pid, d.geo_rank, 'ALL', 'ALL', 1 from geo_down as d
),

corners as (
    select distinct
        p.pid, s.ses_rank, t.time_rank, g.geo_rank,
        p.indicator_code, p.sector, s.ses_group, t.period_type, t.period, g.board_id, g.school_id,
        s.sign * t.sign * g.sign as sign,
        t.linked
    from primaries as p
    inner join ses_coords as s on s.pid = p.pid
    inner join time_coords as t on t.pid = p.pid
    inner join geo_coords as g on g.pid = p.pid
),

cubes as (
    select
        k.pid, k.ses_rank, k.time_rank, k.geo_rank,
        -- every corner exists and can take the step (+1 on the + corners, or the other way)
        count(*) = count(c.numerator)
        and (min(case when (k.sign > 0 and (case when k.linked = 1 then c.can_up_own else c.can_up end))
                        or (k.sign < 0 and (case when k.linked = 1 then c.can_down_own else c.can_down end))
                      then 1 else 0 end) = 1
             or min(case when (k.sign > 0 and (case when k.linked = 1 then c.can_down_own else c.can_down end))
                        or (k.sign < 0 and (case when k.linked = 1 then c.can_up_own else c.can_up end))
                      then 1 else 0 end) = 1)
            as feasible
    from corners as k
    left join cells as c
        on c.indicator_code = k.indicator_code and c.period_type = k.period_type
       and c.period = k.period and c.sector = k.sector and c.board_id = k.board_id
       and c.school_id = k.school_id and c.ses_group = k.ses_group
    group by k.pid, k.ses_rank, k.time_rank, k.geo_rank
),

chosen as (
    select pid, ses_rank, time_rank, geo_rank, feasible
    from (
        select
            cubes.*,
            row_number() over (partition by pid
                               order by case when feasible then 0 else 1 end,
                                        ses_rank, geo_rank, time_rank) as choice
        from cubes
    ) as ranked
    where choice = 1
),

hidden as (
    select distinct k.indicator_code, k.period_type, k.period, k.sector, k.board_id,
           k.school_id, k.ses_group
    from corners as k
    inner join chosen as h
        on h.pid = k.pid and h.ses_rank = k.ses_rank and h.time_rank = k.time_rank
       and h.geo_rank = k.geo_rank
),

unprotected as (
    select p.indicator_code, p.period_type, p.period, p.sector, p.board_id, p.school_id,
           p.ses_group
    from primaries as p
    left join chosen as h on h.pid = p.pid
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
    on h.indicator_code = c.indicator_code and h.period_type = c.period_type
   and h.period = c.period and h.sector = c.sector and h.board_id = c.board_id
   and h.school_id = c.school_id and h.ses_group = c.ses_group
left join unprotected as u
    on u.indicator_code = c.indicator_code and u.period_type = c.period_type
   and u.period = c.period and u.sector = c.sector and u.board_id = c.board_id
   and u.school_id = c.school_id and u.ses_group = c.ses_group
