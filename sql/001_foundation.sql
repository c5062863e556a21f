-- 001_foundation.sql: what every later migration builds on.
--
-- The workers connect as a login role that is a member of ironlayer_worker
-- (created by the installer, see docs/admin-guide.md); it owns no table and
-- has no BYPASSRLS, so the row-level security policies below always apply.

-- The tenant a request is bound to, set per transaction by the worker with
-- set_config('app.tenant_id', …, true). NULL outside a tenant transaction,
-- which makes every tenant policy match nothing.
CREATE FUNCTION app_current_tenant() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT nullif(current_setting('app.tenant_id', true), '')::uuid $$;

GRANT EXECUTE ON FUNCTION app_current_tenant() TO ironlayer_worker;
GRANT SELECT ON schema_migrations TO ironlayer_worker;
GRANT USAGE ON SCHEMA public TO ironlayer_worker;

-- Tables and sequences created by later migrations are usable by the workers;
-- each migration still enables row-level security on its own tables.
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ironlayer_worker;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO ironlayer_worker;
