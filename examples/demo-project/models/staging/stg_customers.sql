-- name: staging.stg_customers
-- kind: FULL_REFRESH
-- materialization: TABLE
-- owner: data-platform
-- tags: staging, customers
SELECT
    c.customer_id,
    lower(c.email) AS email,
    c.country,
    c.signup_date
FROM raw.customers AS c
