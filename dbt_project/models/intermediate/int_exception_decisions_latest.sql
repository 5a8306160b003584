-- one row per exception_id finance decided on: the decision in force, the latest by decided_at
-- (ties: the later delivered row)
with resolutions as (
    select * from {{ ref('stg_finance__resolutions') }}
),

ranked as (
    {{ latest_version_rank('resolutions', partition_by='exception_id', order_first='decided_at desc') }}
),

final as (
    select
        exception_id,
        action as decision,
        note as decision_note,
        decided_by,
        decided_at
    from ranked
    where version_rank = 1
)

select * from final
