{#-
  Pieces of the exception rules (int_exceptions_detected, order_state_timeline) that are the same
  logic everywhere they appear.
-#}

{#- an SLA window has run out: strictly `start + window < as_of` (docs/warehouse.md, "Exceptions");
    `window_var` names the dbt var holding the window, `datepart` its unit -#}
{% macro sla_elapsed(start, window_var, as_of='facts.as_of', datepart='hour') -%}
    {{ dbt.dateadd(datepart, var(window_var), start) }} < {{ as_of }}
{%- endmacro %}

{#- the leading columns of an order-keyed exception row: type, order_id, no document_id, currency -#}
{% macro order_exception(exception_type, relation='facts', currency=none) -%}
    '{{ exception_type }}' as exception_type,
        {{ relation }}.order_id,
        cast(null as {{ dbt.type_string() }}) as document_id,
        {{ currency or relation ~ '.currency' }} as currency
{%- endmacro %}

{#- the leading columns of a document-keyed exception row (no order): type, no order_id, document_id, currency -#}
{% macro document_exception(exception_type, document_id, currency) -%}
    '{{ exception_type }}' as exception_type,
        cast(null as {{ dbt.type_string() }}) as order_id,
        {{ document_id }} as document_id,
        {{ currency }} as currency
{%- endmacro %}
