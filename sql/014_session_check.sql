-- 014_session_check.sql: the user check of a read that travels in one round
-- trip with its BEGIN, its tenant binding and its query (libpq's pipeline).
-- auth_session_user answers "no row" for a user that may not go on, and the
-- statements queued behind it would still run; this one raises instead, so
-- the server skips everything after it up to the pipeline's end. Same
-- arguments, row and privileges as auth_session_user.
CREATE FUNCTION auth_session_check(p_user uuid, p_tenant uuid, p_epoch integer)
    RETURNS TABLE (email text, role text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
BEGIN
    RETURN QUERY SELECT u.email, u.role FROM users u JOIN tenants t ON t.id = u.tenant_id
        WHERE u.id = p_user AND u.tenant_id = p_tenant AND u.disabled_at IS NULL
          AND u.token_epoch = p_epoch;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'session refused' USING ERRCODE = 'IL401';
    END IF;
END $$;
REVOKE ALL ON FUNCTION auth_session_check(uuid, uuid, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth_session_check(uuid, uuid, integer) TO ironlayer_worker;
