-- name: s.a
-- kind: FULL_REFRESH
SELECT * FROM {{ ref("a") }} CROSS JOIN {{ other }}; DROP TABLE x
