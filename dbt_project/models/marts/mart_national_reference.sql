-- National reference (Monitor Ouderbetrokkenheid 2014) per sector and indicator, with the
-- Dutch label, as a share 0-1 like fct_indicator.value.
select
    r.sector,
    r.indicator_code,
    c.indicator_label,
    r.reference_value,
    cast(r.report_table as {{ type_text() }}) as report_table
from {{ ref('national_reference_2014') }} as r
inner join {{ ref('indicator_catalogue') }} as c on r.indicator_code = c.indicator_code
