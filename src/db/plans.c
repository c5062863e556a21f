/* plans.c (db): plans, approvals, planner state */
#include "db/plans.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/plan.h"
#include "db/db.h"
#include "db/json_text.h"
#include "util/arena.h"
#include "util/error.h"
#include "util/parse.h"
#include "util/strbuf.h"

static int state_watermarks(struct plan_inputs *in, struct db *db, struct arena *a,
			    const char *tenant_id, const char *env)
{
	static const char sql[] =
		"SELECT model_name, range_end::text FROM watermarks"
		" WHERE tenant_id = $1 AND environment = $2 ORDER BY model_name";
	const char *p[2] = { tenant_id, env };
	struct plan_watermark *w;
	PGresult *res;
	int i, rc = db_exec(&res, db, a, sql, 2, p);

	if (rc < 0)
		return rc;
	w = arena_calloc(a, (size_t)db_rows(res) + 1, sizeof(*w));
	if (w == NULL)
		return IL_ENOMEM;
	for (i = 0; i < db_rows(res); i++) {
		w[i].model = db_val(res, i, 0);
		w[i].end = db_val(res, i, 1);
	}
	in->watermarks = w;
	in->n_watermarks = (size_t)db_rows(res);
	return 0;
}

/* Rows come ordered by model: each model's runtimes are one run of them. */
static int state_runtimes(struct plan_inputs *in, struct db *db, struct arena *a,
			  const char *tenant_id, const char *env)
{
	static const char sql[] =
		"SELECT model_name, runtime_seconds FROM ("
		" SELECT model_name, runtime_seconds, row_number() OVER"
		"  (PARTITION BY model_name ORDER BY finished_at DESC, run_id) AS n"
		" FROM runs WHERE tenant_id = $1 AND environment = $2 AND status = 'SUCCESS'"
		"  AND runtime_seconds IS NOT NULL) r"
		" WHERE n <= 10 ORDER BY model_name, runtime_seconds";
	const char *p[2] = { tenant_id, env };
	struct plan_runtimes *t;
	double *secs;
	PGresult *res;
	int i, n, rc = db_exec(&res, db, a, sql, 2, p);

	if (rc < 0)
		return rc;
	t = arena_calloc(a, (size_t)db_rows(res) + 1, sizeof(*t));
	secs = arena_calloc(a, (size_t)db_rows(res) + 1, sizeof(*secs));
	if (t == NULL || secs == NULL)
		return IL_ENOMEM;
	for (i = 0, n = 0; i < db_rows(res); i++) {
		secs[i] = parse_double_or(db_val(res, i, 1), 0);
		if (n == 0 || strcmp(t[n - 1].model, db_val(res, i, 0)) != 0) {
			t[n].model = db_val(res, i, 0);
			t[n++].seconds = &secs[i];
		}
		t[n - 1].n++;
	}
	in->runtimes = t;
	in->n_runtimes = (size_t)n;
	return 0;
}

int db_plan_state(struct plan_inputs *in, struct db *db, struct arena *a,
		  const char *tenant_id, const char *env)
{
	int rc = state_watermarks(in, db, a, tenant_id, env);

	return rc < 0 ? rc : state_runtimes(in, db, a, tenant_id, env);
}

int db_state_digest(char out[65], struct db *db, struct arena *a, const char *tenant_id,
		    const char *env, const char *models)
{
	static const char sql[] =
		"SELECT encode(sha256(convert_to(coalesce(string_agg(model_name || '='"
		" || range_end::text, ',' ORDER BY model_name), ''), 'UTF8')), 'hex')"
		" FROM watermarks WHERE tenant_id = $1 AND environment = $2"
		" AND model_name = ANY ($3::text[])";
	const char *p[3] = { tenant_id, env, models };
	PGresult *res;
	int rc = db_exec(&res, db, a, sql, 3, p);

	if (rc == 0)
		snprintf(out, 65, "%s", db_val(res, 0, 0));
	return rc;
}

int db_plan_insert(int *created, struct db *db, struct arena *a, const char *tenant_id,
		   const struct db_plan_row *p)
{
	static const char sql[] =
		"INSERT INTO plans (tenant_id, plan_id, environment, environment_version,"
		" state_digest, repo_path, base_sha, target_sha, as_of, plan_text, total_steps,"
		" models_changed, estimated_cost_usd, created_by, model_hashes)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15::jsonb)"
		" ON CONFLICT (tenant_id, plan_id) DO NOTHING";
	char ver[16], steps[16], changed[16], cost[40];
	const char *v[15] = { tenant_id, p->plan_id, p->environment, ver, p->state_digest,
			      p->repo_path, p->base_sha, p->target_sha, p->as_of, p->plan_text,
			      steps, changed, cost, p->created_by, p->model_hashes };
	PGresult *res;
	int rc;

	snprintf(ver, sizeof(ver), "%d", p->env_version);
	snprintf(steps, sizeof(steps), "%d", p->total_steps);
	snprintf(changed, sizeof(changed), "%d", p->models_changed);
	snprintf(cost, sizeof(cost), "%.6f", p->cost);
	rc = db_exec(&res, db, a, sql, 15, v);
	if (rc == 0)
		*created = strcmp(PQcmdTuples(res), "1") == 0;
	return rc;
}

int db_plan_model_hashes(const char **out, struct db *db, struct arena *a,
			 const char *tenant_id, const char *plan_id)
{
	static const char sql[] =
		"SELECT model_hashes::text FROM plans WHERE tenant_id = $1 AND plan_id = $2";
	const char *p[2] = { tenant_id, plan_id };

	*out = NULL;
	return db_exec_value(out, db, a, sql, 2, p);
}

#define PLAN_COLUMNS \
	"p.plan_id, p.environment, p.status, p.base_sha, p.target_sha, p.total_steps," \
	" p.estimated_cost_usd, p.models_changed, iso8601(p.created_at), u.email," \
	" iso8601(p.applied_at), p.plan_text, p.advisory::text," \
	" coalesce(e.required_approvals, 1), coalesce(e.allow_self_approval, true)," \
	" p.created_by, p.environment_version, p.state_digest, p.as_of::text, p.repo_path"
#define PLAN_FROM \
	" FROM plans p LEFT JOIN users u ON u.id = p.created_by" \
	" LEFT JOIN environments e ON e.tenant_id = p.tenant_id AND e.name = p.environment"

/* Columns of PLAN_COLUMNS, in order. */
enum plan_col {
	PLAN_ID, PLAN_ENV, PLAN_STATUS, PLAN_BASE, PLAN_TARGET, PLAN_STEPS,
	PLAN_COST, PLAN_CHANGED, PLAN_CREATED_AT, PLAN_CREATED_BY, PLAN_APPLIED_AT,
	PLAN_TEXT, PLAN_ADVISORY, PLAN_REQUIRED, PLAN_SELF_OK, PLAN_CREATED_BY_ID,
	PLAN_ENV_VERSION, PLAN_STATE_DIGEST, PLAN_AS_OF, PLAN_REPO_PATH
};

/* The row of PLAN_COLUMNS at 0 into out. */
static int plan_from_row(struct db_plan *out, const PGresult *res)
{
	int64_t required = 0, version = 0;

	if (parse_i64(db_val(res, 0, PLAN_REQUIRED), 0, INT_MAX, &required) < 0 ||
	    parse_i64(db_val(res, 0, PLAN_ENV_VERSION), INT_MIN, INT_MAX, &version) < 0)
		return IL_ERR;
	out->plan_id = db_val(res, 0, PLAN_ID);
	out->environment = db_val(res, 0, PLAN_ENV);
	out->status = db_val(res, 0, PLAN_STATUS);
	out->base_sha = db_val(res, 0, PLAN_BASE);
	out->target_sha = db_val(res, 0, PLAN_TARGET);
	out->plan_text = db_val(res, 0, PLAN_TEXT);
	out->state_digest = db_val(res, 0, PLAN_STATE_DIGEST);
	out->repo_path = db_val(res, 0, PLAN_REPO_PATH);
	out->env_version = (int)version;
	out->created_at = db_val(res, 0, PLAN_CREATED_AT);
	out->created_by = db_val(res, 0, PLAN_CREATED_BY);
	out->applied_at = db_val(res, 0, PLAN_APPLIED_AT);
	out->advisory = db_val(res, 0, PLAN_ADVISORY);
	out->required_approvals = (int)required;
	out->allow_self_approval = strcmp(db_val(res, 0, PLAN_SELF_OK), "t") == 0;
	return 0;
}

int db_plan_load(struct db_plan *out, struct db *db, struct arena *a, const char *tenant_id,
		 const char *plan_id, int for_update)
{
	static const char sql[] = "SELECT " PLAN_COLUMNS PLAN_FROM
		" WHERE p.tenant_id = $1 AND p.plan_id = $2";
	static const char sql_lock[] = "SELECT " PLAN_COLUMNS PLAN_FROM
		" WHERE p.tenant_id = $1 AND p.plan_id = $2 FOR UPDATE OF p";
	const char *p[2] = { tenant_id, plan_id };
	PGresult *res = NULL;
	int rc = db_exec(&res, db, a, for_update ? sql_lock : sql, 2, p);

	memset(out, 0, sizeof(*out));
	if (rc < 0)
		return rc;
	if (db_rows(res) != 1)
		return IL_ENOTFOUND;
	return plan_from_row(out, res);
}

/*
 * Columns of db_plan_list's query: what a list item shows, the plan's
 * summary.models_changed (a JSON array text) and its length (NULL when it is
 * not an array), and the total.
 */
enum db_plan_list_col {
	PLAN_LIST_ID, PLAN_LIST_ENV, PLAN_LIST_STATUS, PLAN_LIST_BASE, PLAN_LIST_TARGET,
	PLAN_LIST_STEPS, PLAN_LIST_COST, PLAN_LIST_CREATED_AT, PLAN_LIST_CREATED_BY,
	PLAN_LIST_MODELS_CHANGED, PLAN_LIST_MODELS_CHANGED_COUNT, PLAN_LIST_TOTAL
};
/* A cost written the way plan JSON writes it (0.000013, never 1.3e-05). */
static void add_cost(struct strbuf *sb, const char *text)
{
	char buf[PLAN_NUMBER_LEN];
	double v = parse_double_or(text, 0);

	if (plan_format_number(buf, v) < 0)
		snprintf(buf, sizeof(buf), "%.17g", v);
	strbuf_adds(sb, buf);
}

/* One list item: the reference's fields (models_changed is the plan's list) and ours. */
static void add_plan_item(struct strbuf *sb, const PGresult *res, int i)
{
	const char *changed = db_val(res, i, PLAN_LIST_MODELS_CHANGED_COUNT) != NULL ?
			      db_val(res, i, PLAN_LIST_MODELS_CHANGED) : NULL;

	strbuf_adds(sb, "{\"plan_id\":");
	db_json_string(sb, db_val(res, i, PLAN_LIST_ID));
	strbuf_adds(sb, ",\"base_sha\":");
	db_json_string(sb, db_val(res, i, PLAN_LIST_BASE));
	strbuf_adds(sb, ",\"target_sha\":");
	db_json_string(sb, db_val(res, i, PLAN_LIST_TARGET));
	strbuf_adds(sb, ",\"environment\":");
	db_json_string(sb, db_val(res, i, PLAN_LIST_ENV));
	strbuf_adds(sb, ",\"status\":");
	db_json_string(sb, db_val(res, i, PLAN_LIST_STATUS));
	strbuf_addf(sb, ",\"total_steps\":%d,\"estimated_cost_usd\":",
		    (int)db_long(res, i, PLAN_LIST_STEPS));
	add_cost(sb, db_val(res, i, PLAN_LIST_COST));
	strbuf_addf(sb, ",\"models_changed_count\":%ld,\"models_changed\":",
		    db_long(res, i, PLAN_LIST_MODELS_CHANGED_COUNT));
	if (changed != NULL)
		db_json_compact(sb, changed);
	else
		strbuf_adds(sb, "[]");
	strbuf_adds(sb, ",\"created_at\":");
	db_json_string(sb, db_val(res, i, PLAN_LIST_CREATED_AT));
	strbuf_adds(sb, ",\"created_by\":");
	db_json_string(sb, db_val(res, i, PLAN_LIST_CREATED_BY));
	strbuf_addc(sb, '}');
}

static int plan_items(const char **json, size_t *len, struct arena *a, const PGresult *res)
{
	struct strbuf sb;
	int i;

	db_json_page_init(&sb, a);
	strbuf_addc(&sb, '[');
	for (i = 0; i < db_rows(res); i++) {
		if (i > 0)
			strbuf_addc(&sb, ',');
		add_plan_item(&sb, res, i);
	}
	strbuf_addc(&sb, ']');
	if ((*json = strbuf_cstr(&sb)) == NULL)
		return IL_ENOMEM;
	*len = sb.len;
	return 0;
}

int db_plan_list(const char **json, size_t *len, long long *total, struct db *db,
		 struct arena *a, const char *tenant_id, const char *env, const char *status,
		 long long limit, long long offset)
{
	/* only what a list item shows (no plan_text, no advisory, no environment) */
	static const char sql[] =
		"SELECT p.plan_id, p.environment, p.status, p.base_sha, p.target_sha,"
		" p.total_steps, p.estimated_cost_usd, iso8601(p.created_at), u.email,"
		" p.summary_models_changed::text,"
		" CASE WHEN jsonb_typeof(p.summary_models_changed) = 'array'"
		"  THEN jsonb_array_length(p.summary_models_changed) END, count(*) OVER ()"
		" FROM plans p LEFT JOIN users u ON u.id = p.created_by"
		" WHERE p.tenant_id = $1 AND ($2::text IS NULL OR p.environment = $2)"
		" AND ($3::text IS NULL OR p.status = $3)"
		" ORDER BY p.created_at DESC, p.plan_id LIMIT $4 OFFSET $5";
	static const char count_sql[] =
		"SELECT count(*) FROM plans WHERE tenant_id = $1"
		" AND ($2::text IS NULL OR environment = $2) AND ($3::text IS NULL OR status = $3)";
	char lim[24], off[24];
	const char *p[5] = { tenant_id, env, status, lim, off };
	PGresult *res, *page;
	int rc;

	snprintf(lim, sizeof(lim), "%lld", limit);
	snprintf(off, sizeof(off), "%lld", offset);
	if ((rc = db_exec(&page, db, a, sql, 5, p)) < 0 ||
	    (rc = plan_items(json, len, a, page)) < 0)
		return rc;
	if (db_rows(page) > 0) {
		*total = db_long(page, 0, PLAN_LIST_TOTAL);
		return 0;
	}
	/* an empty first page means no rows at all: no count needed */
	if (offset == 0) {
		*total = 0;
		return 0;
	}
	/* a page past the end still reports the total */
	rc = db_exec(&res, db, a, count_sql, 3, p);
	if (rc == 0)
		*total = db_long(res, 0, 0);
	return rc;
}

int db_plan_approvals(struct db_approval **out, size_t *n, struct db *db, struct arena *a,
		      const char *tenant_id, const char *plan_id)
{
	static const char sql[] =
		"SELECT pa.user_id, u.email, pa.comment, iso8601(pa.created_at), pa.action"
		" FROM plan_approvals pa LEFT JOIN users u ON u.id = pa.user_id"
		" WHERE pa.tenant_id = $1 AND pa.plan_id = $2 ORDER BY pa.created_at, pa.id";
	const char *p[2] = { tenant_id, plan_id };
	PGresult *res = NULL;
	int i, rc = db_exec(&res, db, a, sql, 2, p);

	*out = NULL;
	*n = 0;
	if (rc < 0)
		return rc;
	if ((*out = arena_calloc(a, (size_t)db_rows(res) + 1, sizeof(**out))) == NULL)
		return IL_ENOMEM;
	for (i = 0; i < db_rows(res); i++) {
		struct db_approval *ap = &(*out)[i];

		ap->user_id = db_val(res, i, 0);
		ap->email = db_val(res, i, 1);
		ap->comment = db_val(res, i, 2);
		ap->at = db_val(res, i, 3);
		ap->action = db_val(res, i, 4);
	}
	*n = (size_t)db_rows(res);
	return 0;
}

int db_plan_add_approval(struct db *db, struct arena *a, const char *tenant_id,
			 const char *plan_id, const char *user_id, const char *action,
			 const char *comment)
{
	static const char sql[] =
		"INSERT INTO plan_approvals (tenant_id, plan_id, user_id, action, comment)"
		" VALUES ($1, $2, $3, $4, $5)";
	const char *p[5] = { tenant_id, plan_id, user_id, action, comment };

	return db_exec(NULL, db, a, sql, 5, p);
}

int db_plan_count_approvals(int *count, struct db *db, struct arena *a, const char *tenant_id,
			    const char *plan_id, int count_author)
{
	static const char sql[] =
		"SELECT count(DISTINCT pa.user_id) FROM plan_approvals pa"
		" JOIN plans p ON p.tenant_id = pa.tenant_id AND p.plan_id = pa.plan_id"
		" WHERE pa.tenant_id = $1 AND pa.plan_id = $2 AND pa.action = 'approved'"
		" AND ($3::boolean OR p.created_by IS DISTINCT FROM pa.user_id)";
	const char *p[3] = { tenant_id, plan_id, count_author ? "true" : "false" };
	PGresult *res;
	int64_t n = 0;
	int rc = db_exec(&res, db, a, sql, 3, p);

	if (rc == 0 && parse_i64(db_val(res, 0, 0), 0, INT_MAX, &n) < 0)
		rc = IL_ERR;
	*count = (int)n;
	return rc;
}

int db_plan_set_status(struct db *db, struct arena *a, const char *tenant_id,
		       const char *plan_id, const char *status)
{
	static const char sql[] =
		"UPDATE plans SET status = $3,"
		" applied_at = CASE WHEN $3 = 'applied' THEN now() ELSE applied_at END"
		" WHERE tenant_id = $1 AND plan_id = $2";
	const char *p[3] = { tenant_id, plan_id, status };

	return db_exec(NULL, db, a, sql, 3, p);
}

int db_plan_set_advisory(struct db *db, struct arena *a, const char *tenant_id,
			 const char *plan_id, const char *advisory_json)
{
	static const char sql[] =
		"UPDATE plans SET advisory = $3::jsonb WHERE tenant_id = $1 AND plan_id = $2";
	const char *p[3] = { tenant_id, plan_id, advisory_json };

	return db_exec(NULL, db, a, sql, 3, p);
}

int db_plan_set_digest(struct db *db, struct arena *a, const char *tenant_id,
		       const char *plan_id, const char *digest)
{
	static const char sql[] =
		"UPDATE plans SET state_digest = $3 WHERE tenant_id = $1 AND plan_id = $2";
	const char *p[3] = { tenant_id, plan_id, digest };

	return db_exec(NULL, db, a, sql, 3, p);
}
