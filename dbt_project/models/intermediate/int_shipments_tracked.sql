-- one row per shipment (winning row) with its tracking milestones:
-- shipped_at = earliest shipped / in_transit / delivered event; delivered_at = earliest delivered event;
-- delivered_before_shipped when it has both a shipped and a delivered event and the earliest delivered precedes the earliest shipped
with shipments as (
    select * from {{ ref('stg_wms__shipments') }}
),

tracking_events as (
    select * from {{ ref('stg_wms__tracking_events') }}
),

milestones as (
    select
        tracking_events.shipment_id,
        min(case when tracking_events.event in ('shipped', 'in_transit', 'delivered') then tracking_events.occurred_at end) as shipped_at,
        min(case when tracking_events.event = 'delivered' then tracking_events.occurred_at end) as delivered_at,
        min(case when tracking_events.event = 'shipped' then tracking_events.occurred_at end) as first_shipped_event_at,
        count(*) as tracking_event_count
    from tracking_events
    group by tracking_events.shipment_id
),

final as (
    select
        shipments.shipment_id,
        shipments.order_id,
        shipments.warehouse_id,
        shipments.carrier,
        shipments.tracking_no,
        shipments.created_at,
        milestones.shipped_at,
        milestones.delivered_at,
        milestones.first_shipped_event_at,
        coalesce(milestones.tracking_event_count, 0) as tracking_event_count,
        coalesce(
            milestones.first_shipped_event_at is not null
            and milestones.delivered_at is not null
            and milestones.delivered_at < milestones.first_shipped_event_at,
            false
        ) as is_delivered_before_shipped
    from shipments
    left join milestones
        on shipments.shipment_id = milestones.shipment_id
)

select * from final
