-- one row per publish in the exception history: every published as_of before this build's, then this
-- build's own (a re-publish of the same as_of replaces it; a later published as_of is not history of
-- this build, so it is left out — the release guard refuses such a landing folder anyway)
with published as (
    select * from {{ ref('stg_history__publications') }}
),

current_as_of as (
    select as_of from {{ ref('int_as_of_resolved') }}
),

publishes as (
    select published.as_of, false as is_current
    from published
    cross join current_as_of
    where published.as_of < current_as_of.as_of
    union all
    select as_of, true as is_current
    from current_as_of
),

final as (
    select
        as_of,
        row_number() over (order by as_of) as publish_no,
        is_current
    from publishes
)

select * from final
