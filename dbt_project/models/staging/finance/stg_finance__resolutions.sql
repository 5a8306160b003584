-- one row per delivered finance decision (acknowledge, waive, reopen) on a published exception;
-- every delivered row counts (a decision is an event, not a version), repeats were skipped by ingest
with source as (
    select * from {{ source('raw', 'finance_resolutions') }}
),

final as (
    select
        -- ids
        {{ dbt.concat(['_file_path', "':'", 'cast(_record_no as ' ~ dbt.type_string() ~ ')']) }} as resolution_id,
        exception_id,
        -- decision
        action,
        nullif(trim(note), '') as note,
        decided_by,
        {{ utc_from_offset_text('decided_at') }} as decided_at,
        -- lineage
        {{ lineage_columns() }}
    from source
)

select * from final
