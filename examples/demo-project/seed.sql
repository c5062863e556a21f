-- seed.sql: the demo project's source tables (schema raw) in the warehouse database.
-- Deterministic: 60 customers, 360 orders over the 60 days ending 2026-11-27, their payments.
-- Safe to load again: it drops and recreates the raw tables.
--   psql "host=... dbname=ironlayer_wh user=ironlayer_wh_admin" -f seed.sql
BEGIN;
SET LOCAL client_min_messages = warning;
CREATE SCHEMA IF NOT EXISTS raw;
DROP TABLE IF EXISTS raw.payments, raw.orders, raw.customers;

CREATE TABLE raw.customers (
    customer_id integer PRIMARY KEY,
    email       text    NOT NULL,
    country     text    NOT NULL,
    signup_date date    NOT NULL
);
INSERT INTO raw.customers (customer_id, email, country, signup_date)
SELECT i,
       'Customer' || i || '@Example.com',
       (ARRAY['US', 'DE', 'FR', 'GB', 'JP', 'BR'])[1 + i % 6],
       DATE '2026-06-01' + (i * 7) % 120
FROM generate_series(1, 60) AS i;

CREATE TABLE raw.orders (
    order_id     integer PRIMARY KEY,
    customer_id  integer NOT NULL REFERENCES raw.customers,
    order_date   date    NOT NULL,
    status       text    NOT NULL,
    amount_cents integer NOT NULL
);
INSERT INTO raw.orders (order_id, customer_id, order_date, status, amount_cents)
SELECT i,
       1 + (i * 37) % 60,
       DATE '2026-11-27' - (i * 13 + i / 60) % 60,
       CASE WHEN i % 17 = 0 THEN 'cancelled'
            WHEN i % 11 = 0 THEN 'returned'
            WHEN i % 5 = 0 THEN 'pending'
            ELSE 'completed' END,
       500 + (i * 7919) % 20000
FROM generate_series(1, 360) AS i;

-- one successful payment per paid order; every 9th order had a failed attempt first
CREATE TABLE raw.payments (
    payment_id   integer     PRIMARY KEY,
    order_id     integer     NOT NULL REFERENCES raw.orders,
    method       text        NOT NULL,
    amount_cents integer     NOT NULL,
    paid_at      timestamptz NOT NULL,
    succeeded    boolean     NOT NULL
);
INSERT INTO raw.payments (payment_id, order_id, method, amount_cents, paid_at, succeeded)
SELECT row_number() OVER (ORDER BY o.order_id, a.attempt),
       o.order_id,
       (ARRAY['card', 'bank_transfer', 'paypal'])[1 + o.order_id % 3],
       o.amount_cents,
       (o.order_date + TIME '08:00') AT TIME ZONE 'UTC'
           + make_interval(mins => o.order_id % 600 + a.attempt * 5),
       a.attempt = 1
FROM raw.orders AS o
CROSS JOIN LATERAL (SELECT 1 AS attempt UNION ALL SELECT 0 WHERE o.order_id % 9 = 0) AS a
WHERE o.status NOT IN ('cancelled', 'pending');
COMMIT;
