-- name: analytics.orders_daily
-- kind: INCREMENTAL_BY_TIME_RANGE
-- materialization: INSERT_OVERWRITE
-- time_column: order_date
-- owner: analytics
-- tags: analytics, daily
SELECT
    o.order_date,
    count(*) AS orders,
    count(DISTINCT o.customer_id) AS customers,
    sum(o.amount) AS revenue
FROM {{ ref('staging.stg_orders') }} AS o
WHERE o.order_date >= '{{ start_date }}' AND o.order_date < '{{ end_date }}'
GROUP BY o.order_date
