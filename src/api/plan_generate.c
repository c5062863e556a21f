/* plan_generate.c: POST /api/v1/plans/generate */
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "core/date.h"
#include "core/plan.h"
#include "core/project.h"
#include "db/auth.h"
#include "db/db.h"
#include "db/environments.h"
#include "db/models.h"
#include "db/plans.h"
#include "http/body.h"
#include "repo/repo.h"
#include "util/arena.h"
#include "util/config.h"
#include "util/error.h"
#include "util/log.h"
#include "util/parse.h"
#include "util/strbuf.h"

struct generate {
	const char *repo_path;   /* resolved, inside a root */
	const char *base_sha, *target_sha;   /* as given, then full ids */
	const char *environment;
	const char *as_of;
	struct repo *repo;
	struct project *base, *target;
	struct db_env env;
	struct plan *plan;
	const char *plan_text;
};

/* Shorter prefixes are cheap to guess across repositories and often ambiguous. */
#define MIN_SHA_PREFIX 7

/*
 * A commit: a sha or its first 7 or more digits, or any other revision the
 * CLI takes (HEAD~1, a branch, tags/v1.2, main^2): letters, digits and
 * . _ / ~ ^ @ { } -, not starting with a dash; libgit2 resolves it in the
 * tenant's repository. A tag named like hex is tags/NAME.
 */
static const char *check_sha(const char *s)
{
	size_t i, n = strlen(s);

	if (is_hex_string(s, 1, 40))
		return is_hex_string(s, MIN_SHA_PREFIX, 40) ? NULL :
			"must be 7 to 40 hexadecimal digits";
	if (n == 0 || n > 255 || s[0] == '-')
		return "must be a commit sha or a revision such as HEAD~1, a branch or tags/NAME";
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("._/~^@{}-", s[i]) == NULL)
			return "must be a commit sha or a revision such as HEAD~1, a branch or "
			       "tags/NAME";
	return NULL;
}

static const char *check_date(const char *s)
{
	long days;

	return date_parse(s, &days) == 0 ? NULL : "must be a date written YYYY-MM-DD";
}

enum { GEN_REPO_PATH, GEN_BASE, GEN_TARGET, GEN_ENV, GEN_AS_OF, GEN__MAX };
static const struct field generate_fields[GEN__MAX] = {
	[GEN_REPO_PATH] = { "repo_path", FIELD_STRING, 1, PATH_MAX, 0, 0, NULL },
	[GEN_BASE] = { "base_sha", FIELD_STRING, 1, 255, 0, 0, check_sha },
	[GEN_TARGET] = { "target_sha", FIELD_STRING, 1, 255, 0, 0, check_sha },
	[GEN_ENV] = { "environment", FIELD_STRING, 0, IL_MAX_IDENT, 0, 0, api_check_env_name },
	[GEN_AS_OF] = { "as_of", FIELD_STRING, 0, 10, 0, 0, check_date },
};

/*
 * Resolves repo_path (symlinks too) and insists it is inside the tenant's own
 * root or a shared one. The answers tell apart what the tenant may know: not
 * absolute; outside its roots (whether or not the path exists: another
 * tenant's repository answers exactly like a missing path there); missing
 * inside its roots.
 */
static int resolve_repo_path(struct generate *g, struct req *r, const char *given)
{
	char real[PATH_MAX];
	int rc;

	if (given[0] != '/') {    /* a relative path: a mistake, whatever it would name */
		req_invalid(r, "body", "repo_path", "repo_path must be an absolute path",
			    "value_error");
		return req_validation_finish(r);
	}
	rc = repo_path_resolve(real, r->cfg, r->who.tenant_id, given);
	if (rc == 0) {
		g->repo_path = arena_strdup(r->arena, real);
		return g->repo_path != NULL ? 0 : IL_ENOMEM;
	}
	req_invalid(r, "body", "repo_path", rc == IL_ENOTFOUND ?
		    "repo_path does not exist (it is inside your repository roots)" :
		    "repo_path is outside your repository roots (<root>/<tenant id>/ of a "
		    "repo_roots entry, or a shared root)", "value_error");
	return req_validation_finish(r);
}

static int open_repo(struct generate *g, struct req *r)
{
	int rc = repo_open(&g->repo, r->arena, g->repo_path);

	if (rc == IL_ENOTFOUND) {
		req_invalid(r, "body", "repo_path", "repo_path is not a git repository",
			    "value_error");
		return req_validation_finish(r);
	}
	return rc;
}

/* Turns a given sha into a full commit id; 422 when it names no commit. */
static int resolve_commit(const char **sha, struct generate *g, struct req *r,
			  const char *field)
{
	char full[REPO_OID_HEX_LEN + 1];
	int rc = repo_resolve(full, g->repo, *sha);

	if (rc == IL_ENOTFOUND || rc == IL_EINVALID) {
		req_invalid(r, "body", field, rc == IL_ENOTFOUND ?
			    "does not name a commit in the repository" :
			    "is ambiguous or does not name a commit", "value_error");
		return 1;
	}
	if (rc < 0)
		return rc;
	*sha = arena_strdup(r->arena, full);
	return 0;
}

static int read_inputs(struct generate *g, struct req *r)
{
	struct field_value v[GEN__MAX];
	char today[IL_DATE_LEN + 1];
	int rc, bad = 0;

	if (body_read(r, generate_fields, GEN__MAX, v))
		return 1;
	memset(g, 0, sizeof(*g));
	g->base_sha = v[GEN_BASE].str;
	g->target_sha = v[GEN_TARGET].str;
	g->environment = v[GEN_ENV].present ? v[GEN_ENV].str : "dev";
	date_format((long)(time(NULL) / 86400), today);
	g->as_of = v[GEN_AS_OF].present ? v[GEN_AS_OF].str : arena_strdup(r->arena, today);
	if ((rc = resolve_repo_path(g, r, v[GEN_REPO_PATH].str)) != 0 ||
	    (rc = open_repo(g, r)) != 0)
		return rc;
	if ((rc = resolve_commit(&g->base_sha, g, r, "base_sha")) < 0 ||
	    (bad = resolve_commit(&g->target_sha, g, r, "target_sha")) < 0)
		return rc < 0 ? rc : bad;
	return rc || bad ? req_validation_finish(r) : 0;
}

/* 422 listing every problem of the target project. */
static void model_errors(struct req *r, const struct project *p)
{
	json_object *o = json_object_new_object(), *list = json_object_new_array();
	size_t i;

	for (i = 0; i < p->diags.n; i++) {
		const struct diag *d = &p->diags.items[i];
		json_object *e;

		if (d->severity != DIAG_ERROR)
			continue;
		e = json_object_new_object();
		json_object_object_add(e, "file", json_object_new_string(d->file));
		json_object_object_add(e, "line", json_object_new_int((int)d->line));
		json_object_object_add(e, "message", json_object_new_string(d->message));
		json_object_array_add(list, e);
	}
	json_object_object_add(o, "detail", json_object_new_string_len(
		"the models at target_sha have errors", 36));
	json_object_object_add(o, "code", json_object_new_string("model_errors"));
	json_object_object_add(o, "errors", list);
	r->error_code = "model_errors";
	req_json(r, 422, o);
}

static int load_projects(struct generate *g, struct req *r)
{
	int rc = repo_load_projects(&g->base, &g->target, r->arena, g->repo, g->base_sha,
				    g->target_sha, r->cfg->models_dir, NULL);

	if (rc == IL_ETOOBIG) {
		req_error(r, 413, "too_many_models", "the repository has too many models");
		return 1;
	}
	if (rc < 0) {
		log_error("reading models failed: %s", repo_last_error(g->repo));
		return rc;
	}
	if (g->target->diags.n_errors > 0) {
		model_errors(r, g->target);
		return 1;
	}
	return 0;
}

static int build_plan(struct generate *g, struct req *r)
{
	struct plan_inputs in;
	const char *err = NULL;
	size_t len;
	int rc;

	plan_inputs_init(&in);
	in.base = g->base_sha;
	in.target = g->target_sha;
	in.environment = g->environment;
	in.as_of = g->as_of;
	in.default_lookback_days = r->cfg->default_lookback_days;
	in.cost_per_compute_second = r->cfg->cost_per_compute_second;
	if ((rc = db_plan_state(&in, r->db, r->arena, r->who.tenant_id, g->environment)) < 0)
		return rc;
	rc = plan_build(&g->plan, r->arena, g->base, g->target, &in, &err);
	if (rc == IL_EINVALID) {
		req_error(r, 422, "plan_invalid", "%s", err ? err : "the plan cannot be built");
		return 1;
	}
	if (rc == 0)
		rc = plan_to_json(&g->plan_text, &len, r->arena, g->plan);
	return rc;
}

/* The plan's step models as a PostgreSQL array literal (names need no quoting). */
static const char *step_models(struct req *r, const struct plan *p)
{
	struct strbuf sb;
	size_t i;

	strbuf_init(&sb, r->arena, IL_MAX_RESPONSE_TEXT);
	strbuf_addc(&sb, '{');
	for (i = 0; i < p->n_steps; i++)
		strbuf_addf(&sb, "%s%s", i ? "," : "", p->steps[i].model);
	strbuf_addc(&sb, '}');
	return strbuf_cstr(&sb);
}

/*
 * Each step model's content hash at the target commit, as a JSON object
 * {"schema.name": "<sha256>"}: what the approval covers, and what apply
 * recomputes before it runs anything (names and hashes need no escaping).
 */
static const char *step_hashes(struct req *r, const struct generate *g)
{
	struct strbuf sb;
	size_t i;

	strbuf_init(&sb, r->arena, IL_MAX_RESPONSE_TEXT);
	strbuf_addc(&sb, '{');
	for (i = 0; i < g->plan->n_steps; i++) {
		const char *model = g->plan->steps[i].model;
		int k = project_find(g->target, model);

		if (k < 0)
			return NULL;   /* every step is a model of the target */
		strbuf_addf(&sb, "%s\"%s\":\"%s\"", i ? "," : "", model,
			    g->target->models[k]->content_hash);
	}
	strbuf_addc(&sb, '}');
	return strbuf_cstr(&sb);
}

static int store_plan(int *created, struct generate *g, struct req *r)
{
	struct db_plan_row row;
	char digest[IL_SHA256_HEX_LEN + 1];
	const char *models = step_models(r, g->plan), *hashes = step_hashes(r, g);
	int rc;

	if (models == NULL || hashes == NULL)
		return IL_ENOMEM;
	rc = db_state_digest(digest, r->db, r->arena, r->who.tenant_id, g->environment, models);
	if (rc < 0)
		return rc;
	memset(&row, 0, sizeof(row));
	row.plan_id = g->plan->plan_id;
	row.environment = g->environment;
	row.env_version = g->env.version;
	row.state_digest = digest;
	row.repo_path = g->repo_path;
	row.base_sha = g->base_sha;
	row.target_sha = g->target_sha;
	row.as_of = g->as_of;
	row.plan_text = g->plan_text;
	row.model_hashes = hashes;
	row.total_steps = (int)g->plan->n_steps;
	row.models_changed = (int)g->plan->models_changed.n;   /* the affected set */
	row.cost = g->plan->estimated_cost_usd;
	row.created_by = r->who.user_id;
	return db_plan_insert(created, r->db, r->arena, r->who.tenant_id, &row);
}

/*
 * POST /api/v1/plans/generate (operator). 201 with a new plan (already
 * "applied" when it has no steps: there is nothing to approve or run); 200
 * with the stored plan when this tenant generated the same plan before; 404 for an
 * unknown environment; 422 for a bad repo_path or sha, or model errors (every
 * one listed).
 */
int api_plans_generate(struct req *r)
{
	struct generate g;
	int rc, created = 0;

	if ((rc = read_inputs(&g, r)) != 0)
		return rc > 0 ? 0 : rc;
	rc = db_env_get(&g.env, r->db, r->arena, r->who.tenant_id, g.environment);
	if (rc == IL_ENOTFOUND) {
		req_error(r, 404, "not_found", "environment %s not found", g.environment);
		return 0;
	}
	if (rc < 0)
		return rc;
	if ((rc = api_check_quota(r, BILLING_LIMIT_PLANS_PER_MONTH)) != 0 ||
	    (rc = load_projects(&g, r)) != 0 || (rc = build_plan(&g, r)) != 0)
		return rc > 0 ? 0 : rc;
	if ((rc = store_plan(&created, &g, r)) < 0)
		return rc;
	/* nothing to run: nothing to approve either */
	if (created && g.plan->n_steps == 0 &&
	    (rc = db_plan_set_status(r->db, r->arena, r->who.tenant_id, g.plan->plan_id,
				     "applied")) < 0)
		return rc;
	if (created && ((rc = api_catalog_update(r, g.target, g.target_sha)) < 0 ||
			(rc = api_count_plan_generation(r)) < 0 ||
			(rc = db_audit_append(r->db, r->arena, r->who.tenant_id, r->who.email,
					      "plan_generated", "plan", g.plan->plan_id,
					      NULL)) < 0))
		return rc;
	return api_plan_respond(r, g.plan->plan_id, created ? 201 : 200);
}
