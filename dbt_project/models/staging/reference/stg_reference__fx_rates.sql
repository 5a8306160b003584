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
        {{ lineage_columns() }}
    from source
),

ranked as (
    -- reference/fx_rates is undated (_export_date null on every row): the later file, then record, wins
    {{ latest_version_rank('renamed', partition_by=['rate_date', 'currency']) }}
),

final as (
    select rate_date, currency, rate_to_cny
    from ranked
    where version_rank = 1
)

select * from final
