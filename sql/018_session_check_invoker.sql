-- 018_session_check_invoker.sql: the user check of every read, without the
-- cost of SECURITY DEFINER. The check always runs after the tenant binding of
-- its own transaction (the same pipeline), so row-level security already
-- shows the worker the one tenant's users: no definer rights are needed to
-- read them. A SECURITY DEFINER function (and its SET search_path) saves and
-- restores the caller's settings on every call, about a tenth of
-- PostgreSQL's time per read. Same arguments, row, error and privileges; the
-- tables are schema-qualified since the caller's search_path now applies.
-- Without a binding, or bound to another tenant, RLS hides the user: the
-- check raises, as for a user that is gone.
CREATE OR REPLACE FUNCTION auth_session_check(p_user uuid, p_tenant uuid, p_epoch integer)
    RETURNS TABLE (email text, role text)
    LANGUAGE plpgsql STABLE SECURITY INVOKER
    AS $$
BEGIN
    RETURN QUERY SELECT u.email, u.role FROM public.users u JOIN public.tenants t ON t.id = u.tenant_id
        WHERE u.id = p_user AND u.tenant_id = p_tenant AND u.disabled_at IS NULL
          AND u.token_epoch = p_epoch;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'session refused' USING ERRCODE = 'IL401';
    END IF;
END $$;
ALTER FUNCTION auth_session_check(uuid, uuid, integer) RESET ALL;
