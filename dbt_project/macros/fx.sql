{#-
  FX rule of sources.md: an amount posted on a China-local date uses that date's rate to CNY, or the
  latest earlier one; CNY is always 1. `keys` is a CTE name with columns (currency, rate_on DATE).
  Returns the body of a CTE with (currency, rate_on, rate_to_cny). When no rate exists on or before the
  date (data starting later than the rates file), the earliest later rate is used (documented fallback).
-#}
{% macro fx_rates_for(keys, fx_relation) -%}
    select
        ranked.currency,
        ranked.rate_on,
        ranked.rate_to_cny
    from (
        select
            {{ keys }}.currency,
            {{ keys }}.rate_on,
            case when {{ keys }}.currency = 'CNY' then cast(1 as decimal(18, 8)) else fx.rate_to_cny end as rate_to_cny,
            row_number() over (
                partition by {{ keys }}.currency, {{ keys }}.rate_on
                order by
                    case when fx.rate_date <= {{ keys }}.rate_on then 0 else 1 end,
                    case when fx.rate_date <= {{ keys }}.rate_on then fx.rate_date end desc,
                    fx.rate_date
            ) as rate_rank
        from {{ keys }}
        left join {{ fx_relation }} as fx
            on fx.currency = {{ keys }}.currency
    ) as ranked
    where ranked.rate_rank = 1
{%- endmacro %}
