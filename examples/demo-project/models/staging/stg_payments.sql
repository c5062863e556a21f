-- name: staging.stg_payments
-- kind: FULL_REFRESH
-- materialization: VIEW
-- owner: data-platform
-- tags: staging, payments
SELECT
    p.payment_id,
    p.order_id,
    p.method,
    round(p.amount_cents / 100.0, 2) AS amount,
    p.paid_at::date AS paid_date
FROM raw.payments AS p
WHERE p.succeeded
