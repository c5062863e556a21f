-- 002_auth.sql: tenants, users, refresh tokens, login throttling, environments,
-- and the hash-chained audit log.
--
-- Row-level security is enabled (not forced) on every tenant-owned table: the
-- workers' role is not the owner, so the policies always bind it, while the
-- SECURITY DEFINER functions below (owned by the owner) can do the few
-- lookups that must happen before a tenant is known (login, refresh).

CREATE TABLE tenants (
    id uuid PRIMARY KEY,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 256),
    created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenants
    USING (id = app_current_tenant()) WITH CHECK (id = app_current_tenant());

CREATE TABLE users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email text NOT NULL CHECK (email = lower(email) AND length(email) <= 320),
    display_name text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 256),
    password_hash text NOT NULL,
    role text NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    disabled_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_login_at timestamptz
);
-- an email signs in to exactly one account, whatever the tenant
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE INDEX users_tenant_idx ON users (tenant_id);
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON users
    USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());

-- Refresh tokens are stored only as SHA-256 hashes. Every token descends from
-- one login (its family); presenting a used token revokes the whole family.
CREATE TABLE refresh_tokens (
    token_hash text PRIMARY KEY CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id uuid NOT NULL,
    parent_hash text,
    issued_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    revoked_at timestamptz
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
ALTER TABLE refresh_tokens ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON refresh_tokens
    USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());

-- Failed logins per (email, client address), both hashed together: shared by
-- the whole worker pool. Not tenant-owned (the email may not exist).
CREATE TABLE login_attempts (
    key_hash text PRIMARY KEY CHECK (key_hash ~ '^[0-9a-f]{64}$'),
    failures integer NOT NULL,
    window_start timestamptz NOT NULL,
    last_failure_at timestamptz NOT NULL
);

-- Where plans run. version grows with every change, so a plan made against
-- an older version is stale.
CREATE TABLE environments (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name text NOT NULL CHECK (name ~ '^[a-z][a-z0-9_]{0,62}$'),
    executor text NOT NULL DEFAULT 'postgres' CHECK (executor IN ('postgres', 'databricks')),
    catalog text,
    schema_prefix text NOT NULL CHECK (schema_prefix ~ '^[a-z][a-z0-9_]{0,39}$'),
    required_approvals integer NOT NULL DEFAULT 1 CHECK (required_approvals BETWEEN 1 AND 10),
    allow_self_approval boolean NOT NULL DEFAULT true,
    connection_enc bytea,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, name)
);
ALTER TABLE environments ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON environments
    USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());

-- The audit log: append-only, one hash chain per tenant (tenant_id NULL holds
-- events that have no tenant, such as a failed login for an unknown email).
-- hash = sha256 of the row's fields and the previous row's hash, joined by '|'
-- (see audit_row_text); `ironlayer audit verify` recomputes it independently.
CREATE TABLE audit_log (
    id bigserial PRIMARY KEY,
    tenant_id uuid REFERENCES tenants (id) ON DELETE CASCADE,
    seq bigint NOT NULL,
    actor text NOT NULL,
    action text NOT NULL,
    entity_type text NOT NULL,
    entity_id text NOT NULL,
    metadata jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL,
    prev_hash text NOT NULL,
    hash text NOT NULL,
    UNIQUE NULLS NOT DISTINCT (tenant_id, seq)
);
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_read ON audit_log FOR SELECT USING (tenant_id = app_current_tenant());
-- only audit_append writes; nobody updates or deletes
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON audit_log FROM ironlayer_worker;

CREATE FUNCTION audit_row_text(prev text, tenant uuid, seq bigint, actor text,
                               action text, entity_type text, entity_id text,
                               metadata jsonb, at timestamptz) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT concat_ws('|', prev, coalesce(tenant::text, ''), seq::text, actor, action,
                           entity_type, entity_id, metadata::text,
                           (extract(epoch FROM at) * 1000000)::bigint::text) $$;

CREATE FUNCTION audit_append(p_tenant uuid, p_actor text, p_action text,
                             p_entity_type text, p_entity_id text, p_metadata jsonb)
    RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
DECLARE
    v_prev text;
    v_seq bigint;
    v_at timestamptz := date_trunc('milliseconds', clock_timestamp());
    v_id bigint;
BEGIN
    -- inside a tenant's transaction only that tenant's chain can be written
    IF app_current_tenant() IS NOT NULL AND p_tenant IS DISTINCT FROM app_current_tenant() THEN
        RAISE EXCEPTION 'audit_append: tenant mismatch';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('audit:' || coalesce(p_tenant::text, '-')));
    SELECT hash, seq INTO v_prev, v_seq FROM audit_log
        WHERE tenant_id IS NOT DISTINCT FROM p_tenant ORDER BY seq DESC LIMIT 1;
    v_prev := coalesce(v_prev, repeat('0', 64));
    v_seq := coalesce(v_seq, 0) + 1;
    INSERT INTO audit_log (tenant_id, seq, actor, action, entity_type, entity_id, metadata,
                           created_at, prev_hash, hash)
    VALUES (p_tenant, v_seq, p_actor, p_action, p_entity_type, p_entity_id, p_metadata, v_at,
            v_prev,
            encode(sha256(convert_to(audit_row_text(v_prev, p_tenant, v_seq, p_actor, p_action,
                                                    p_entity_type, p_entity_id, p_metadata,
                                                    v_at), 'UTF8')), 'hex'))
    RETURNING id INTO v_id;
    RETURN v_id;
END $$;
REVOKE ALL ON FUNCTION audit_append(uuid, text, text, text, text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_append(uuid, text, text, text, text, jsonb) TO ironlayer_worker;

-- Login needs the account behind an email before any tenant is known.
CREATE FUNCTION auth_user_by_email(p_email text)
    RETURNS TABLE (user_id uuid, tenant_id uuid, password_hash text, role text,
                   disabled boolean)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT u.id, u.tenant_id, u.password_hash, u.role, u.disabled_at IS NOT NULL
          FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE u.email = p_email $$;
REVOKE ALL ON FUNCTION auth_user_by_email(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_user_by_email(text) TO ironlayer_worker;

-- Refresh and logout find a token's tenant from its hash alone.
CREATE FUNCTION auth_refresh_tenant(p_hash text) RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT tenant_id FROM refresh_tokens WHERE token_hash = p_hash $$;
REVOKE ALL ON FUNCTION auth_refresh_tenant(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_refresh_tenant(text) TO ironlayer_worker;

-- Every authenticated request: is the token's user still active in a tenant
-- that still exists? Returns the user's email, or no row.
CREATE FUNCTION auth_active_user(p_user uuid, p_tenant uuid) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT u.email FROM users u JOIN tenants t ON t.id = u.tenant_id
          WHERE u.id = p_user AND u.tenant_id = p_tenant AND u.disabled_at IS NULL $$;
REVOKE ALL ON FUNCTION auth_active_user(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_active_user(uuid, uuid) TO ironlayer_worker;

-- Timestamps leave the database in one form: ISO 8601, UTC, milliseconds.
CREATE FUNCTION iso8601(timestamptz) RETURNS text
    LANGUAGE sql STABLE
    AS $$ SELECT to_char($1 AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') $$;
