{#-
  The few engine-specific expressions of o2c, behind macros so the models stay portable.
  Each macro dispatches: `default__` is the DuckDB form, `spark__` the Spark SQL form.
-#}

{#- ISO 8601 text with an offset (Z, +08:00, fractional seconds) -> UTC TIMESTAMP -#}
{% macro utc_from_offset_text(column) -%}
    {{ return(adapter.dispatch('utc_from_offset_text', 'o2c')(column)) }}
{%- endmacro %}
{% macro default__utc_from_offset_text(column) -%}
    timezone('UTC', cast({{ column }} as timestamptz))
{%- endmacro %}
{% macro spark__utc_from_offset_text(column) -%}
    to_utc_timestamp(to_timestamp({{ column }}), 'UTC')
{%- endmacro %}

{#- naive local time text 'YYYY-MM-DD HH:MM:SS' in Asia/Shanghai -> UTC TIMESTAMP -#}
{% macro utc_from_china_local_text(column) -%}
    {{ return(adapter.dispatch('utc_from_china_local_text', 'o2c')(column)) }}
{%- endmacro %}
{% macro default__utc_from_china_local_text(column) -%}
    timezone('UTC', timezone('Asia/Shanghai', cast({{ column }} as timestamp)))
{%- endmacro %}
{% macro spark__utc_from_china_local_text(column) -%}
    to_utc_timestamp(cast({{ column }} as timestamp), 'Asia/Shanghai')
{%- endmacro %}

{#- UTC TIMESTAMP -> its China-local (Asia/Shanghai) calendar DATE -#}
{% macro china_date(column) -%}
    {{ return(adapter.dispatch('china_date', 'o2c')(column)) }}
{%- endmacro %}
{% macro default__china_date(column) -%}
    cast(timezone('Asia/Shanghai', timezone('UTC', {{ column }})) as date)
{%- endmacro %}
{% macro spark__china_date(column) -%}
    to_date(from_utc_timestamp({{ column }}, 'Asia/Shanghai'))
{%- endmacro %}

{#- China-local DATE -> the UTC TIMESTAMP of its local midnight -#}
{% macro china_date_start_utc(column) -%}
    {{ return(adapter.dispatch('china_date_start_utc', 'o2c')(column)) }}
{%- endmacro %}
{% macro default__china_date_start_utc(column) -%}
    timezone('UTC', timezone('Asia/Shanghai', cast({{ column }} as timestamp)))
{%- endmacro %}
{% macro spark__china_date_start_utc(column) -%}
    to_utc_timestamp(cast({{ column }} as timestamp), 'Asia/Shanghai')
{%- endmacro %}

{#- bank remark rule: upper-case, keep only A-Z and 0-9 -#}
{% macro normalize_remark(column) -%}
    {{ return(adapter.dispatch('normalize_remark', 'o2c')(column)) }}
{%- endmacro %}
{% macro default__normalize_remark(column) -%}
    regexp_replace(upper({{ column }}), '[^A-Z0-9]', '', 'g')
{%- endmacro %}
{% macro spark__normalize_remark(column) -%}
    regexp_replace(upper({{ column }}), '[^A-Z0-9]', '')
{%- endmacro %}

{#- hours between two timestamps as a decimal (seconds / 3600) -#}
{% macro hours_between(start_column, end_column) -%}
    cast({{ dbt.datediff(start_column, end_column, 'second') }} as decimal(18, 4)) / 3600
{%- endmacro %}

{#- money: exact decimal -#}
{% macro money(expression) -%}
    cast({{ expression }} as decimal(18, 2))
{%- endmacro %}

{#- the as_of instant given in O2C_AS_OF (ISO 8601, UTC when no offset) as a UTC TIMESTAMP literal,
    or none when the variable is unset/empty. Parsed at compile time: no engine function needed. -#}
{% macro as_of_literal(text) -%}
    {%- set value = (text or '') | trim -%}
    {%- if value == '' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set parsed = modules.datetime.datetime.fromisoformat(value.replace('Z', '+00:00').replace('z', '+00:00')) -%}
    {%- if parsed.tzinfo is not none -%}
        {%- set parsed = parsed.astimezone(modules.pytz.utc).replace(tzinfo=none) -%}
    {%- endif -%}
    {{ return("cast('" ~ parsed.strftime('%Y-%m-%d %H:%M:%S.%f') ~ "' as timestamp)") }}
{%- endmacro %}
