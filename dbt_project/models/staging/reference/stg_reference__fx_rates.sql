-- one row per (rate_date, currency): daily rate to CNY; a repeated pair keeps the later record
with source as (
    select * from {{ source('raw', 'reference_fx_rates') }}
),

renamed as (
    select
        -- ids
        cast(date as date) as rate_date,
        currency,
        -- amounts
        cast(rate_to_cny as decimal(18, 8)) as rate_to_cny,
        -- lineage
        _file_path,
        _record_no
    from source
),

ranked as (
    select
        renamed.*,
        row_number() over (
            partition by rate_date, currency
            order by _file_path desc, _record_no desc
        ) as version_rank
    from renamed
),

final as (
    select rate_date, currency, rate_to_cny
    from ranked
    where version_rank = 1
)

select * from final
