-- 004_apply.sql: what apply needs beyond 003: environment versions that never
-- repeat (a deleted and recreated environment is a different one), and the
-- per-tenant login roles of the shared default warehouse.

CREATE SEQUENCE environment_versions START 1000;
ALTER TABLE environments ALTER COLUMN version SET DEFAULT nextval('environment_versions');
GRANT USAGE, SELECT ON SEQUENCE environment_versions TO ironlayer_worker;

-- In the server's shared warehouse every tenant's SQL runs as its own role,
-- which owns that tenant's schemas and can reach nothing else.
CREATE TABLE warehouse_roles (
    tenant_id uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    role_name text NOT NULL UNIQUE CHECK (role_name ~ '^il_t[0-9a-f]{16}$'),
    password_enc bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE warehouse_roles ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON warehouse_roles
    USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());

CREATE FUNCTION environment_json(e environments) RETURNS json
    LANGUAGE sql STABLE
    AS $$ SELECT json_build_object(
        'name', e.name, 'executor', e.executor, 'catalog', e.catalog,
        'schema_prefix', e.schema_prefix, 'required_approvals', e.required_approvals,
        'allow_self_approval', e.allow_self_approval,
        'connection_configured', e.connection_enc IS NOT NULL,
        'version', e.version, 'created_at', iso8601(e.created_at)) $$;

CREATE FUNCTION run_telemetry_json(r runs) RETURNS json
    LANGUAGE sql STABLE
    AS $$ SELECT json_build_object(
        'run_id', r.run_id, 'model_name', r.model_name,
        'runtime_seconds', r.runtime_seconds, 'rows_processed', r.rows_processed,
        'cost_usd', r.cost_usd, 'executor', r.executor, 'statement_id', r.statement_id,
        'collected_at', iso8601(r.collected_at)) $$;
