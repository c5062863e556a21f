-- 012_apply_limits.sql: what the apply limits need beyond 011: an
-- environment's own limit on one step's time (NULL: the server's
-- step_timeout_seconds; a value can only lower it), and a small index on the
-- plans being applied, which every read of plans, runs and models checks for
-- applies whose worker died (their apply lock is free).

ALTER TABLE environments ADD COLUMN step_timeout_seconds integer
    CHECK (step_timeout_seconds BETWEEN 1 AND 86400);

CREATE INDEX plans_applying_idx ON plans (tenant_id) WHERE status = 'applying';
