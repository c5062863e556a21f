-- bench/lists-explain.sql: the plan PostgreSQL uses for each list page, as a
-- worker runs it (the application role, row-level security on, a tenant
-- bound, a generic plan of a prepared statement). bench/api.sh --explain runs
-- it for the tenant with 20 plans (psql -v tenant=ID). The statements are
-- those of src/db/{plans,models,runs,environments}.c: keep them in step.
\set ON_ERROR_STOP 1
SET ROLE ironlayer_app;
SET plan_cache_mode = force_generic_plan;
SELECT set_config('app.tenant_id', :'tenant', false) \g /dev/null
\echo '### GET /plans?limit=20'
PREPARE plans_page AS
SELECT p.plan_id, p.environment, p.status, p.base_sha, p.target_sha,
  p.total_steps, p.estimated_cost_usd, iso8601(p.created_at), u.email,
  p.summary_models_changed::text, count(*) OVER ()
  FROM plans p LEFT JOIN users u ON u.id = p.created_by
 WHERE p.tenant_id = $1 AND ($2::text IS NULL OR p.environment = $2)
   AND ($3::text IS NULL OR p.status = $3)
 ORDER BY p.created_at DESC, p.plan_id LIMIT $4 OFFSET $5;
EXPLAIN (ANALYZE, COSTS off, TIMING off, SUMMARY off)
  EXECUTE plans_page(:'tenant', NULL, NULL, '20', '0');
\echo '### GET /models?limit=20'
PREPARE models_page AS
SELECT json_build_object('kind', m.kind, 'name', m.name, 'tags', m.tags,
  'owner', m.owner, 'created_at', iso8601(m.created_at), 'model_name', m.name,
  'unique_key', m.unique_key, 'updated_at', iso8601(m.updated_at),
  'time_column', m.time_column, 'content_hash', m.content_hash,
  'current_version', m.content_hash, 'last_run_status', lr.status,
  'materialization', m.materialization, 'watermark_range', wm.range,
  'last_modified_at', iso8601(m.updated_at),
  'last_modified_commit', m.last_modified_commit)::text, m.total
  FROM (SELECT m.tenant_id, m.name, m.kind, m.materialization, m.owner, m.tags,
          m.time_column, m.unique_key, m.last_modified_commit, m.content_hash,
          m.created_at, m.updated_at, count(*) OVER () AS total
          FROM models m WHERE m.tenant_id = $1
           AND ($2::text IS NULL OR m.kind = $2) AND ($3::text IS NULL OR m.owner = $3)
           AND ($4::text IS NULL OR $4 = ANY (m.tags))
           AND ($5::text IS NULL OR strpos(lower(m.name), lower($5)) > 0)
         ORDER BY m.name LIMIT $6 OFFSET $7) m
  LEFT JOIN LATERAL (SELECT r.status FROM runs r
     WHERE r.tenant_id = m.tenant_id AND r.model_name = m.name
     ORDER BY r.started_at DESC, r.run_id LIMIT 1) lr ON true
  LEFT JOIN LATERAL (SELECT json_build_object('end', w.range_end,
     'start', w.range_start) AS range FROM watermarks w
     WHERE w.tenant_id = m.tenant_id AND w.model_name = m.name
     ORDER BY w.updated_at DESC LIMIT 1) wm ON true
 ORDER BY m.name;
EXPLAIN (ANALYZE, COSTS off, TIMING off, SUMMARY off)
  EXECUTE models_page(:'tenant', NULL, NULL, NULL, NULL, '20', '0');
\echo '### GET /runs?limit=20'
PREPARE runs_page AS
SELECT json_build_object('run_id', r.run_id, 'status', r.status,
  'plan_id', r.plan_id, 'step_id', r.step_id, 'executor', r.executor,
  'logs_uri', NULL::text, 'run_type', r.run_type, 'model_name', r.model_name,
  'started_at', iso8601(r.started_at), 'environment', r.environment,
  'finished_at', iso8601(r.finished_at), 'input_range', CASE
  WHEN r.input_range_start IS NULL THEN NULL ELSE json_build_object(
  'end', r.input_range_end, 'start', r.input_range_start) END,
  'retry_count', 0, 'cluster_used', NULL::text, 'error_message', r.error_message,
  'external_run_id', r.external_run_id, 'input_range_end', r.input_range_end,
  'executor_version', r.executor, 'input_range_start', r.input_range_start)::text,
  count(*) OVER () FROM runs r WHERE r.tenant_id = $1
   AND ($2::text IS NULL OR r.plan_id = $2)
   AND ($3::text IS NULL OR r.model_name = $3)
   AND ($4::text IS NULL OR r.status = $4)
 ORDER BY r.started_at DESC, r.run_id LIMIT $5 OFFSET $6;
EXPLAIN (ANALYZE, COSTS off, TIMING off, SUMMARY off)
  EXECUTE runs_page(:'tenant', NULL, NULL, NULL, '20', '0');
\echo '### GET /environments'
PREPARE environments_list AS
SELECT (environment_json(e)::jsonb || jsonb_build_object('id', e.id,
  'is_default', e.name = 'dev', 'is_production', e.is_production,
  'is_ephemeral', false, 'pr_number', NULL::int, 'branch_name', NULL::text,
  'expires_at', NULL::text, 'deleted_at', NULL::text,
  'updated_at', iso8601(e.created_at), 'created_by', coalesce(u.email,
   (SELECT s.email FROM users s WHERE s.tenant_id = e.tenant_id
     AND s.created_at = e.created_at ORDER BY s.id LIMIT 1))))::text
  FROM environments e LEFT JOIN users u ON u.id = e.created_by
 WHERE e.tenant_id = $1 ORDER BY e.name;
EXPLAIN (ANALYZE, COSTS off, TIMING off, SUMMARY off)
  EXECUTE environments_list(:'tenant');
