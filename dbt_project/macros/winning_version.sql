{#-
  Winning-version rules of the staging models (docs/warehouse.md), with "later" defined once:
  a delivered record is later than another by (_export_date, _file_path, _record_no) — export-date
  folder, file name in byte order (DuckDB's default VARCHAR order), position in the file.
  Plain window functions only (no QUALIFY), so the models stay portable.
-#}

{#- the lineage columns that identify a delivered record, optionally qualified by a relation -#}
{% macro lineage_columns(relation=none) -%}
    {%- set prefix = relation ~ '.' if relation else '' -%}
    {{ prefix }}_export_date, {{ prefix }}_file_path, {{ prefix }}_record_no
{%- endmacro %}

{#- join condition: both relations point at the same delivered record (child rows of a winning parent) -#}
{% macro same_record(left, right) -%}
    {{ left }}._export_date = {{ right }}._export_date
        and {{ left }}._file_path = {{ right }}._file_path
        and {{ left }}._record_no = {{ right }}._record_no
{%- endmacro %}

{#- body of a CTE: every row of `relation` plus `version_rank`, 1 for the later record per `partition_by` -#}
{% macro latest_version_rank(relation, partition_by, order_first=none) -%}
    {{ _version_rank(relation, partition_by, ' desc', order_first) }}
{%- endmacro %}

{#- body of a CTE: every row of `relation` plus `version_rank`, 1 for the first delivery per `partition_by` -#}
{% macro first_delivery_rank(relation, partition_by) -%}
    {{ _version_rank(relation, partition_by, '', none) }}
{%- endmacro %}

{#- `partition_by`: a column or a list of columns; `order_first`: an ordering that comes before "later" -#}
{% macro _version_rank(relation, partition_by, direction, order_first) -%}
    {%- set keys = [partition_by] if partition_by is string else partition_by -%}
    select
        {{ relation }}.*,
        row_number() over (
            partition by {{ keys | join(', ') }}
            order by {% if order_first %}{{ order_first }}, {% endif -%}
                _export_date{{ direction }}, _file_path{{ direction }}, _record_no{{ direction }}
        ) as version_rank
    from {{ relation }}
{%- endmacro %}
