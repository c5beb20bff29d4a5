{#- Rows for which a boolean SQL expression is false (or null) fail the test. -#}
{% test expression_is_true(model, expression, where_clause='1 = 1') %}
select *
from {{ model }}
where ({{ where_clause }}) and not coalesce(({{ expression }}), false)
{% endtest %}
