-- 010_sessions.sql: sessions that end at once, throttling that holds, and a
-- security log for failed logins outside the tenants' audit chains.

-- Every access token carries its user's epoch at the time it was issued; a
-- request whose token names another epoch is refused. Logout, a password
-- change, a refresh token presented twice and `ironlayer user disable` move
-- the epoch on, which ends every access token the user holds at once.
ALTER TABLE users ADD COLUMN token_epoch integer NOT NULL DEFAULT 0;

-- Every authenticated request: the user's email and current role when the
-- user is active, in a tenant that still exists, and the token's epoch is the
-- current one; no row otherwise. The role in the token is informational only.
CREATE FUNCTION auth_session_user(p_user uuid, p_tenant uuid, p_epoch integer)
    RETURNS TABLE (email text, role text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT u.email, u.role FROM users u JOIN tenants t ON t.id = u.tenant_id
          WHERE u.id = p_user AND u.tenant_id = p_tenant AND u.disabled_at IS NULL
            AND u.token_epoch = p_epoch $$;
REVOKE ALL ON FUNCTION auth_session_user(uuid, uuid, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_session_user(uuid, uuid, integer) TO ironlayer_worker;

-- Throttling counters, shared by the whole worker pool: one row per key, a key
-- being the SHA-256 of what is counted ("login-account|<email>",
-- "login-address|<client address>", "signup-address|<client address>").
-- hits counts the attempts admitted inside the window that began at
-- window_start. Only the functions below touch it.
CREATE TABLE auth_throttle (
    key_hash text PRIMARY KEY CHECK (key_hash ~ '^[0-9a-f]{64}$'),
    hits integer NOT NULL,
    window_start timestamptz NOT NULL
);
CREATE INDEX auth_throttle_window_idx ON auth_throttle (window_start);
REVOKE ALL ON auth_throttle FROM ironlayer_worker;

-- Charges one attempt to every key at once, or to none of them: when a key
-- has used its limit inside its window nothing is charged and the answer is
-- the seconds until that window ends (at least 1); otherwise 0. The rows are
-- locked in key order, so parallel workers queue instead of deadlocking, and
-- the whole check-and-record is this one call: no two workers can both see
-- "one attempt left" and both go on.
CREATE FUNCTION auth_throttle_hit(p_keys text[], p_limits integer[], p_windows integer[])
    RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
DECLARE
    v_wait integer := 0;
    v_row record;
BEGIN
    INSERT INTO auth_throttle (key_hash, hits, window_start)
        SELECT k, 0, now() FROM unnest(p_keys) AS k ORDER BY k
        ON CONFLICT (key_hash) DO NOTHING;
    FOR v_row IN
        SELECT t.key_hash, t.hits, t.window_start, l.lim, l.win
        FROM auth_throttle t
        JOIN unnest(p_keys, p_limits, p_windows) AS l (k, lim, win) ON l.k = t.key_hash
        ORDER BY t.key_hash
        FOR UPDATE OF t
    LOOP
        IF v_row.window_start <= now() - make_interval(secs => v_row.win) THEN
            UPDATE auth_throttle SET hits = 0, window_start = now()
                WHERE key_hash = v_row.key_hash;
        ELSIF v_row.hits >= v_row.lim THEN
            v_wait := greatest(v_wait, 1, ceil(extract(epoch FROM v_row.window_start
                               + make_interval(secs => v_row.win) - now()))::integer);
        END IF;
    END LOOP;
    IF v_wait = 0 THEN
        UPDATE auth_throttle SET hits = hits + 1 WHERE key_hash = ANY (p_keys);
    END IF;
    -- now and then, forget windows that ended long ago
    IF random() < 0.01 THEN
        DELETE FROM auth_throttle WHERE window_start < now() - interval '1 day';
    END IF;
    RETURN v_wait;
END $$;
REVOKE ALL ON FUNCTION auth_throttle_hit(text[], integer[], integer[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_throttle_hit(text[], integer[], integer[]) TO ironlayer_worker;

-- After a successful login: the account's count starts over (p_reset) and the
-- address gets back the attempt it was charged (p_refund), so that signing in
-- never uses up anyone's allowance.
CREATE FUNCTION auth_throttle_refund(p_reset text[], p_refund text[]) RETURNS void
    LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ UPDATE auth_throttle SET hits = 0 WHERE key_hash = ANY (p_reset);
          UPDATE auth_throttle SET hits = greatest(hits - 1, 0) WHERE key_hash = ANY (p_refund) $$;
REVOKE ALL ON FUNCTION auth_throttle_refund(text[], text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_throttle_refund(text[], text[]) TO ironlayer_worker;

-- The per-(email, address) counters of 002 are replaced by auth_throttle.
DROP TABLE login_attempts;

-- The security log: failed logins, one row per account (hashed email) and
-- window, counting the failures in it. An unauthenticated caller can add at
-- most one row per account per window, and the per-address limit bounds how
-- many accounts one address can try; nothing goes into a tenant's audit
-- chain. A tenant sees the rows of its own accounts (tenant_id is NULL when
-- the email has no account).
CREATE TABLE security_events (
    id bigserial PRIMARY KEY,
    event text NOT NULL CHECK (event IN ('login_failed')),
    subject_hash text NOT NULL CHECK (subject_hash ~ '^[0-9a-f]{64}$'),
    tenant_id uuid REFERENCES tenants (id) ON DELETE CASCADE,
    window_start timestamptz NOT NULL,
    count integer NOT NULL,
    first_at timestamptz NOT NULL,
    last_at timestamptz NOT NULL,
    last_address text,
    UNIQUE (event, subject_hash, window_start)
);
CREATE INDEX security_events_tenant_idx ON security_events (tenant_id, window_start);
ALTER TABLE security_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_read ON security_events FOR SELECT
    USING (tenant_id = app_current_tenant());
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON security_events FROM ironlayer_worker;

CREATE FUNCTION security_login_failed(p_subject text, p_tenant uuid, p_address text,
                                      p_window integer) RETURNS void
    LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ INSERT INTO security_events AS s (event, subject_hash, tenant_id, window_start,
                                            count, first_at, last_at, last_address)
          VALUES ('login_failed', p_subject, p_tenant,
                  to_timestamp(floor(extract(epoch FROM now()) / p_window) * p_window),
                  1, now(), now(), p_address)
          ON CONFLICT (event, subject_hash, window_start) DO UPDATE
          SET count = s.count + 1, last_at = now(), last_address = EXCLUDED.last_address $$;
REVOKE ALL ON FUNCTION security_login_failed(text, uuid, text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION security_login_failed(text, uuid, text, integer) TO ironlayer_worker;
