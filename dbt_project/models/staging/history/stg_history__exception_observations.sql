-- one row per (published as_of, exception_id): the exceptions each published version listed
with source as (
    select * from {{ source('published_history', 'exception_observations') }}
),

final as (
    select
        cast(as_of as timestamp) as as_of,
        exception_id,
        exception_type,
        order_id,
        document_id
    from source
)

select * from final
