-- name: analytics.customer_ltv
-- kind: MERGE_BY_KEY
-- materialization: MERGE
-- unique_key: customer_id
-- owner: analytics
-- tags: analytics, customers
SELECT
    c.customer_id,
    c.country,
    count(o.order_id) AS orders,
    coalesce(sum(o.amount), 0) AS lifetime_value,
    min(o.order_date) AS first_order_date,
    max(o.order_date) AS last_order_date
FROM {{ ref('staging.stg_customers') }} AS c
LEFT JOIN {{ ref('staging.stg_orders') }} AS o ON o.customer_id = c.customer_id
GROUP BY c.customer_id, c.country
