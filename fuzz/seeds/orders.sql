-- name: analytics.orders_daily
-- kind: INCREMENTAL_BY_TIME_RANGE
-- time_column: d
-- tests: not_null(d), accepted_values(s:a|b)@WARN, row_count_min(1)
-- contract_columns: d:DATE:NOT_NULL, amt:DECIMAL(10,2)
-- dependencies: raw.x, y
WITH a AS (SELECT "Q""x", `b`, 'it''s' FROM {{ ref('raw.events') }} /* c */)
SELECT d, SUM(x) :: int FROM a WHERE d >= '{{ start_date }}' -- t
