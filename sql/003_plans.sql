-- 003_plans.sql: plans and their approvals, the model catalog, and the run
-- history and watermarks the planner reads (apply writes them).

CREATE TABLE plans (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    plan_id text NOT NULL CHECK (plan_id ~ '^[0-9a-f]{64}$'),
    environment text NOT NULL,
    environment_version integer NOT NULL,
    -- sha256 of the watermarks of the plan's models when it was made: apply
    -- refuses the plan (stale) when they moved since
    state_digest text NOT NULL,
    repo_path text NOT NULL,
    base_sha text NOT NULL CHECK (base_sha ~ '^[0-9a-f]{40}$'),
    target_sha text NOT NULL CHECK (target_sha ~ '^[0-9a-f]{40}$'),
    as_of date NOT NULL,
    plan_text text NOT NULL,          -- the canonical plan bytes, never rewritten
    status text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'approved', 'rejected', 'applying', 'applied', 'failed')),
    total_steps integer NOT NULL,
    models_changed integer NOT NULL,
    estimated_cost_usd double precision NOT NULL,
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    applied_at timestamptz,
    advisory jsonb,
    PRIMARY KEY (tenant_id, plan_id)
);
CREATE INDEX plans_list_idx ON plans (tenant_id, created_at DESC);
ALTER TABLE plans ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON plans
    USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());

CREATE TABLE plan_approvals (
    id bigserial PRIMARY KEY,
    tenant_id uuid NOT NULL,
    plan_id text NOT NULL,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    action text NOT NULL CHECK (action IN ('approved', 'rejected')),
    comment text,
    created_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant_id, plan_id) REFERENCES plans (tenant_id, plan_id) ON DELETE CASCADE
);
-- one approval per user per plan
CREATE UNIQUE INDEX plan_approvals_once ON plan_approvals (tenant_id, plan_id, user_id)
    WHERE action = 'approved';
ALTER TABLE plan_approvals ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON plan_approvals
    USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());

-- The catalog: every model seen at the target commit of a generated plan.
CREATE TABLE models (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name text NOT NULL,
    kind text NOT NULL,
    materialization text NOT NULL,
    owner text,
    tags text[] NOT NULL DEFAULT '{}',
    time_column text,
    unique_key text,
    dependencies text[] NOT NULL DEFAULT '{}',
    file_path text NOT NULL,
    sql text NOT NULL,
    content_hash text NOT NULL,
    last_modified_commit text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, name)
);
ALTER TABLE models ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON models
    USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());

CREATE TABLE model_versions (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    model_name text NOT NULL,
    content_hash text NOT NULL,
    commit_sha text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, model_name, content_hash)
);
ALTER TABLE model_versions ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON model_versions
    USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());

-- One row per executed (or skipped) plan step.
CREATE TABLE runs (
    run_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    plan_id text NOT NULL,
    step_id text NOT NULL,
    model_name text NOT NULL,
    environment text NOT NULL,
    status text NOT NULL CHECK (status IN ('RUNNING', 'SUCCESS', 'FAILED', 'SKIPPED', 'CANCELLED')),
    run_type text NOT NULL,
    input_range_start date,
    input_range_end date,
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    error_message text,
    executor text NOT NULL,
    external_run_id text,
    runtime_seconds double precision,
    rows_processed bigint,
    cost_usd double precision,
    statement_id text,
    collected_at timestamptz
);
CREATE INDEX runs_list_idx ON runs (tenant_id, started_at DESC);
CREATE INDEX runs_model_idx ON runs (tenant_id, environment, model_name, finished_at DESC);
ALTER TABLE runs ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON runs
    USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());

-- How far each incremental model has been processed: [range_start, range_end).
CREATE TABLE watermarks (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    environment text NOT NULL,
    model_name text NOT NULL,
    range_start date NOT NULL,
    range_end date NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, environment, model_name)
);
ALTER TABLE watermarks ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON watermarks
    USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());

-- How a run and a catalog entry look in API responses (one definition for
-- every endpoint that shows them).
CREATE FUNCTION run_json(r runs) RETURNS json
    LANGUAGE sql STABLE
    AS $$ SELECT json_build_object(
        'run_id', r.run_id, 'plan_id', r.plan_id, 'step_id', r.step_id,
        'model_name', r.model_name, 'environment', r.environment, 'status', r.status,
        'run_type', r.run_type,
        'input_range', CASE WHEN r.input_range_start IS NULL THEN NULL
                            ELSE json_build_object('start', r.input_range_start,
                                                   'end', r.input_range_end) END,
        'input_range_start', r.input_range_start, 'input_range_end', r.input_range_end,
        'started_at', iso8601(r.started_at), 'finished_at', iso8601(r.finished_at),
        'error_message', r.error_message, 'executor', r.executor,
        'external_run_id', r.external_run_id) $$;

CREATE FUNCTION model_item_json(m models) RETURNS json
    LANGUAGE sql STABLE
    AS $$ SELECT json_build_object(
        'name', m.name, 'kind', m.kind, 'materialization', m.materialization,
        'owner', m.owner, 'tags', m.tags, 'time_column', m.time_column,
        'unique_key', m.unique_key, 'last_modified_commit', m.last_modified_commit,
        'content_hash', m.content_hash, 'updated_at', iso8601(m.updated_at),
        'last_run_status', (SELECT r.status FROM runs r
                            WHERE r.tenant_id = m.tenant_id AND r.model_name = m.name
                            ORDER BY r.started_at DESC, r.run_id LIMIT 1),
        'watermark_range', (SELECT json_build_object('start', w.range_start, 'end', w.range_end)
                            FROM watermarks w
                            WHERE w.tenant_id = m.tenant_id AND w.model_name = m.name
                            ORDER BY w.updated_at DESC LIMIT 1)) $$;
