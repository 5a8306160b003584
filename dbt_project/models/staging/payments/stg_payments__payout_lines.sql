-- one row per (payout_id, txn_id): a transaction listed in a gateway payout; the later row wins
with source as (
    select * from {{ source('raw', 'payments_payouts') }}
),

renamed as (
    select
        -- ids
        payout_id,
        txn_id,
        -- dimensions
        currency,
        -- dates: the China-local date the gateway paid out
        cast(payout_date as date) as payout_date,
        -- lineage
        {{ lineage_columns() }}
    from source
),

ranked as (
    {{ latest_version_rank('renamed', partition_by=['payout_id', 'txn_id']) }}
),

final as (
    select payout_id, txn_id, currency, payout_date,
           {{ lineage_columns() }}
    from ranked
    where version_rank = 1
)

select * from final
