{#- The legal OMS status transitions of the export contract (docs/contract/sources.md) (a repeat of the same status is legal). -#}
{% macro legal_status_transitions() -%}
    {{ return([
        ('created', 'approved'), ('created', 'cancelled'),
        ('approved', 'allocated'), ('approved', 'cancelled'),
        ('allocated', 'shipped'), ('allocated', 'cancelled'),
        ('shipped', 'delivered'),
        ('delivered', 'completed'), ('delivered', 'return_requested'),
        ('completed', 'return_requested'),
        ('return_requested', 'returned'),
        ('returned', 'refunded'),
    ]) }}
{%- endmacro %}

{#- boolean SQL expression: is previous -> current a legal transition (previous null = first event) -#}
{% macro is_legal_transition(previous_status, current_status) -%}
    case
        when {{ previous_status }} is null then {{ current_status }} = 'created'
        when {{ previous_status }} = {{ current_status }} then true
        {%- for from_status, to_status in legal_status_transitions() %}
        when {{ previous_status }} = '{{ from_status }}' and {{ current_status }} = '{{ to_status }}' then true
        {%- endfor %}
        else false
    end
{%- endmacro %}
