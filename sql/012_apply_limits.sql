-- 012_apply_limits.sql: what the apply limits need beyond 011: an
-- environment's own limit on one step's time (NULL: the server's
-- step_timeout_seconds; a value can only lower it), and a small index on the
-- plans being applied, which every read of plans, runs and models checks for
-- applies whose worker died (their apply lock is free).

ALTER TABLE environments ADD COLUMN step_timeout_seconds integer
    CHECK (step_timeout_seconds BETWEEN 1 AND 86400);

CREATE INDEX plans_applying_idx ON plans (tenant_id) WHERE status = 'applying';

-- Whether a plan of the tenant is applying: asked in the round trip that opens
-- a request's transaction. PL/pgSQL keeps the query's plan for the session, so
-- asking costs next to nothing (an inline EXISTS would be planned each time).
CREATE FUNCTION tenant_applying(p_tenant uuid) RETURNS boolean
    LANGUAGE plpgsql STABLE
    AS $$ BEGIN
        RETURN EXISTS (SELECT 1 FROM plans WHERE tenant_id = p_tenant AND status = 'applying');
    END $$;
REVOKE ALL ON FUNCTION tenant_applying(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_applying(uuid) TO ironlayer_worker;
