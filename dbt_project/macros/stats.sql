{#- 95 % intervals. Inputs are SQL expressions; n may be a Kish effective sample size. -#}

{#- Wilson score interval for a proportion p over n units. Bounds are clamped to [0, 1]; p is
    clamped too, because a ratio such as the survey response rate can exceed 1. -#}
{% macro wilson_low(p, n, z=var('z_95')) -%}
    (case when {{ n }} > 0 then greatest(0.0,
        ((least(greatest({{ p }}, 0.0), 1.0) + {{ z }} * {{ z }} / (2.0 * {{ n }}))
         - {{ z }} * sqrt(least(greatest({{ p }}, 0.0), 1.0) * (1.0 - least(greatest({{ p }}, 0.0), 1.0)) / {{ n }}
                         + {{ z }} * {{ z }} / (4.0 * {{ n }} * {{ n }})))
        / (1.0 + {{ z }} * {{ z }} / {{ n }})) end)
{%- endmacro %}

{% macro wilson_high(p, n, z=var('z_95')) -%}
    (case when {{ n }} > 0 then least(1.0,
        ((least(greatest({{ p }}, 0.0), 1.0) + {{ z }} * {{ z }} / (2.0 * {{ n }}))
         + {{ z }} * sqrt(least(greatest({{ p }}, 0.0), 1.0) * (1.0 - least(greatest({{ p }}, 0.0), 1.0)) / {{ n }}
                         + {{ z }} * {{ z }} / (4.0 * {{ n }} * {{ n }})))
        / (1.0 + {{ z }} * {{ z }} / {{ n }})) end)
{%- endmacro %}

{#- Standard error of a proportion (used for gaps between groups). -#}
{% macro proportion_se(p, n) -%}
    (case when {{ n }} > 0 then sqrt(least(greatest({{ p }}, 0.0), 1.0) * (1.0 - least(greatest({{ p }}, 0.0), 1.0)) / {{ n }}) end)
{%- endmacro %}

{#- Two-sided 95 % t critical value for df degrees of freedom: exact from the seed
    t_critical_values (df 1..1000, computed with scipy), beyond that the Cornish-Fisher
    expansion z + (z^3 + z) / (4 df), which is within 1e-6 there. Null when df < 1. -#}
{% macro t_critical(df) -%}
    (case
        when {{ df }} is null or {{ df }} < 1 then null
        when {{ df }} <= 1000 then (select t.t_975 from {{ ref('t_critical_values') }} as t
                                     where t.df = cast(floor({{ df }}) as integer))
        else {{ var('z_95') }} + (power({{ var('z_95') }}, 3) + {{ var('z_95') }}) / (4.0 * {{ df }})
     end)
{%- endmacro %}
