-- one row per distinct published as_of (two publishes of the same data count once)
with source as (
    select * from {{ source('published_history', 'publications') }}
),

final as (
    select
        cast(as_of as timestamp) as as_of,
        min(publication_id) as first_publication_id
    from source
    group by cast(as_of as timestamp)
)

select * from final
