-- name: analytics.revenue_summary
-- kind: FULL_REFRESH
-- materialization: TABLE
-- owner: finance
-- tags: analytics, finance
SELECT
    p.method,
    count(DISTINCT o.order_id) AS orders,
    sum(p.amount) AS collected,
    sum(o.amount) AS billed
FROM {{ ref('staging.stg_payments') }} AS p
JOIN {{ ref('staging.stg_orders') }} AS o ON o.order_id = p.order_id
GROUP BY p.method
