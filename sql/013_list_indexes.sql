-- 013_list_indexes.sql: the list pages read what they show and nothing else,
-- through indexes that match their filter and their whole sort.
--
-- GET /plans shows the count and the names of the changed models, which live
-- in the plan's JSON: keep them next to the row (computed once, when the plan
-- is written) instead of parsing every listed plan's whole text per request.
ALTER TABLE plans ADD COLUMN summary_models_changed jsonb
    GENERATED ALWAYS AS (plan_text::jsonb -> 'summary' -> 'models_changed') STORED;

-- ORDER BY created_at DESC, plan_id / started_at DESC, run_id: the tie-breaker
-- is in the index, so a page is read in order and stops after LIMIT rows.
CREATE INDEX plans_page_idx ON plans (tenant_id, created_at DESC, plan_id);
DROP INDEX plans_list_idx;
CREATE INDEX runs_page_idx ON runs (tenant_id, started_at DESC, run_id);
DROP INDEX runs_list_idx;

-- Every authenticated request checks its user through auth_session_user. A
-- LANGUAGE sql function called in FROM (SECURITY DEFINER: never inlined) is
-- parsed and planned again on every call; PL/pgSQL keeps the plan for the
-- life of the connection. Same arguments, result and privileges.
CREATE OR REPLACE FUNCTION auth_session_user(p_user uuid, p_tenant uuid, p_epoch integer)
    RETURNS TABLE (email text, role text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
BEGIN
    RETURN QUERY SELECT u.email, u.role FROM users u JOIN tenants t ON t.id = u.tenant_id
        WHERE u.id = p_user AND u.tenant_id = p_tenant AND u.disabled_at IS NULL
          AND u.token_epoch = p_epoch;
END $$;

-- model_item_json has subqueries, so it cannot be inlined either: as LANGUAGE
-- sql it was planned again for every request that lists models. Same body.
CREATE OR REPLACE FUNCTION model_item_json(m models) RETURNS json
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    RETURN json_build_object(
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
                            ORDER BY w.updated_at DESC LIMIT 1));
END $$;

-- A model's newest run (models list, lineage) and its newest watermark, by
-- model across environments.
CREATE INDEX runs_model_newest_idx ON runs (tenant_id, model_name, started_at DESC, run_id);
CREATE INDEX watermarks_model_idx ON watermarks (tenant_id, model_name, updated_at DESC);
