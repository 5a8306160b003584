-- one row per (as_of, exception_id): the exception log carried from one published version to the next
-- (issue 12). The published log before this build's as_of, plus the exceptions that hold now. Publishing
-- copies this table into the published file; the next ingest carries it back (ingest/history.py).
with published as (
    select * from {{ ref('stg_history__exception_observations') }}
),

publishes as (
    select * from {{ ref('int_publishes_sequenced') }}
),

current_exceptions as (
    select * from {{ ref('reconciliation_exceptions') }}
),

final as (
    select published.as_of, published.exception_id, published.exception_type,
           published.order_id, published.document_id
    from published
    inner join publishes
        on published.as_of = publishes.as_of
        and not publishes.is_current
    union all
    select as_of, exception_id, exception_type, order_id, document_id
    from current_exceptions
)

select * from final
