-- 019_session_check_plain.sql: the user check of every read as a plain SQL
-- statement instead of a PL/pgSQL table function. auth_session_check (018)
-- costs a PL/pgSQL call, an SPI query and a tuplestore on every request, a
-- quarter of PostgreSQL's time for GET /auth/me. The worker now sends one
-- statement (check_sql in src/db/auth.c) that binds the tenant and left-joins
-- the user to it, so that it always returns one row:
--
--   SELECT u.email, coalesce(u.role, auth_session_refuse())
--     FROM (SELECT set_config('app.tenant_id', $2, true)::uuid AS tenant) b
--     LEFT JOIN LATERAL (SELECT ... FROM users u WHERE u.id = $1
--       AND u.tenant_id = b.tenant AND ... token_epoch = $3) u ON true
--
-- role is NULL only when the user may not go on, and only then is
-- auth_session_refuse called, which raises IL401 as auth_session_check did,
-- so the statements queued behind the check in the same pipeline are
-- skipped. VOLATILE keeps the planner from calling it while it plans.
-- users.tenant_id references tenants ON DELETE CASCADE, so the user's row
-- alone says the tenant exists. auth_session_check stays for a worker of
-- the previous release during an upgrade.
CREATE FUNCTION auth_session_refuse() RETURNS text
    LANGUAGE plpgsql VOLATILE SECURITY INVOKER
    AS $$
BEGIN
    RAISE EXCEPTION 'session refused' USING ERRCODE = 'IL401';
END $$;
REVOKE ALL ON FUNCTION auth_session_refuse() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_session_refuse() TO ironlayer_worker;
