-- name: staging.stg_orders
-- kind: FULL_REFRESH
-- materialization: VIEW
-- owner: data-platform
-- tags: staging, orders
SELECT
    o.order_id,
    o.customer_id,
    o.order_date,
    o.status,
    round(o.amount_cents / 100.0, 2) AS amount
FROM raw.orders AS o
WHERE o.status <> 'cancelled'
