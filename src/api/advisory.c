/* advisory.c: POST /api/v1/plans/:id/augment: heuristics and optional LLM advice on a plan */
#include <stdlib.h>
#include <string.h>

#include "advise/advise.h"
#include "advise/llm.h"
#include "api/api.h"
#include "core/project.h"
#include "db/auth.h"
#include "db/db.h"
#include "db/plans.h"
#include "db/runs.h"
#include "repo/repo.h"
#include "util/arena.h"
#include "util/config.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include "util/parse.h"
#include "util/strbuf.h"

/* Finished runs per model the history looks back over. */
#define HISTORY_RUNS 20

struct augment {
	const char *plan_id;
	const char *repo_path, *base_sha, *target_sha, *environment;
	struct advise_step *steps;
	size_t n_steps;
	struct advise_input in;
};

/* Where the plan came from: repository and commits, environment. */
static int plan_source(struct augment *g, struct req *r)
{
	PGresult *res;
	int rc = db_plan_get(&res, r->db, r->arena, r->who.tenant_id, g->plan_id, 0);

	if (rc < 0)
		return rc;
	g->repo_path = db_val(res, 0, PLAN_REPO_PATH);
	g->base_sha = db_val(res, 0, PLAN_BASE);
	g->target_sha = db_val(res, 0, PLAN_TARGET);
	g->environment = db_val(res, 0, PLAN_ENV);
	return 0;
}

/* The steps of the stored plan text (read only: the plan never changes). */
static int read_steps(struct augment *g, struct req *r, const char *plan_text)
{
	json_object *plan = api_json_parse(plan_text), *steps, *s, *v;
	size_t i, n;

	if (plan == NULL || json_arena_own(r->arena, plan) < 0 ||
	    !json_object_object_get_ex(plan, "steps", &steps) ||
	    !json_object_is_type(steps, json_type_array))
		return IL_ERR;
	n = json_object_array_length(steps);
	g->steps = arena_calloc(r->arena, n + 1, sizeof(*g->steps));
	if (g->steps == NULL)
		return IL_ENOMEM;
	for (i = 0; i < n; i++) {
		struct advise_step *st = &g->steps[i];

		s = json_object_array_get_idx(steps, i);
		const char *step_id = json_str(s, "step_id"), *model = json_str(s, "model");

		st->step_id = arena_strdup(r->arena, step_id ? step_id : "");
		st->model = arena_strdup(r->arena, model ? model : "");
		st->full_refresh = json_str(s, "run_type") == NULL ||
				   strcmp(json_str(s, "run_type"), "FULL_REFRESH") == 0;
		if (json_object_object_get_ex(s, "estimated_compute_seconds", &v))
			st->planned_seconds = json_object_get_double(v);
		if (st->step_id == NULL || st->model == NULL)
			return IL_ENOMEM;
	}
	g->n_steps = n;
	return 0;
}

/*
 * The projects at both commits. A repository that moved or lost a commit
 * since the plan was made is not an error: the SQL-based advice is left out.
 * The path must still resolve, inside the tenant's roots, to where it did at
 * generate, so no other repository's SQL reaches the advice (or the LLM).
 */
static void load_projects(struct augment *g, struct req *r)
{
	struct repo *repo;
	struct project *base = NULL, *target = NULL;
	char real[PATH_MAX];

	if (repo_path_resolve(real, r->cfg, r->who.tenant_id, g->repo_path) != 0 ||
	    strcmp(real, g->repo_path) != 0) {
		log_warn("augment %s: the plan's repository path no longer leads to it",
			 g->plan_id);
		return;
	}
	if (repo_open(&repo, r->arena, g->repo_path) < 0) {
		log_warn("augment %s: the plan's repository cannot be opened", g->plan_id);
		return;
	}
	if (repo_load_project(&base, r->arena, repo, g->base_sha, r->cfg->models_dir) < 0 ||
	    repo_load_project(&target, r->arena, repo, g->target_sha, r->cfg->models_dir) < 0) {
		log_warn("augment %s: reading models failed: %s", g->plan_id,
			 repo_last_error(repo));
		return;
	}
	g->in.base = base;
	g->in.target = target;
}

/* The plan's models as a PostgreSQL array literal (model names need no quoting). */
static const char *model_array(struct req *r, const struct augment *g)
{
	struct strbuf sb;
	size_t i;

	strbuf_init(&sb, r->arena, IL_MAX_RESPONSE_TEXT);
	strbuf_addc(&sb, '{');
	for (i = 0; i < g->n_steps; i++)
		strbuf_addf(&sb, "%s%s", i ? "," : "", g->steps[i].model);
	strbuf_addc(&sb, '}');
	return strbuf_cstr(&sb);
}

static int load_history(struct augment *g, struct req *r)
{
	const char *models = model_array(r, g);
	PGresult *h;
	double *secs;
	size_t i;
	int row, rc;

	if (models == NULL)
		return IL_ENOMEM;
	if ((rc = db_run_history(&h, r->db, r->arena, r->who.tenant_id, g->environment, models,
				  HISTORY_RUNS)) < 0)
		return rc;
	secs = arena_calloc(r->arena, (size_t)db_rows(h) + 1, sizeof(*secs));
	if (secs == NULL)
		return IL_ENOMEM;
	for (i = 0; i < g->n_steps; i++) {
		struct advise_history *hi = &g->steps[i].history;

		hi->runtimes = secs;
		for (row = 0; row < db_rows(h); row++) {
			if (strcmp(db_val(h, row, 0), g->steps[i].model) != 0)
				continue;
			hi->recent_runs++;
			if (strcmp(db_val(h, row, 1), "FAIL") == 0)
				hi->recent_failures++;
			else if (db_val(h, row, 2) != NULL)
				secs[hi->n_runtimes++] = parse_double_or(db_val(h, row, 2), 0);
		}
		secs += hi->n_runtimes;
	}
	return 0;
}

static json_object *llm_error(const char *provider, const char *model, const char *code,
			      const char *detail)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "provider", api_str(provider));
	json_object_object_add(o, "model", api_str(model));
	json_object_object_add(o, "error", json_object_new_string(code));
	json_object_object_add(o, "detail", api_str(detail));
	return o;
}

/* The validated LLM advice with provider, model and token usage. */
static json_object *llm_result(const struct api_llm_settings *k, const struct llm_reply *rep,
			       json_object *advice)
{
	json_object *usage = json_object_new_object();

	json_object_object_add(advice, "provider", json_object_new_string(k->provider));
	json_object_object_add(advice, "model", api_str(rep->model ? rep->model : k->model));
	json_object_object_add(usage, "input_tokens", json_object_new_int64(rep->input_tokens));
	json_object_object_add(usage, "output_tokens", json_object_new_int64(rep->output_tokens));
	json_object_object_add(advice, "usage", usage);
	return advice;
}

/* One LLM call for the plan; every failure becomes {"error": ...}. */
static int llm_advice(json_object **out, struct req *r, const struct augment *g,
		      const struct api_llm_settings *k, json_object *heuristics)
{
	struct llm_request q;
	struct llm_reply rep;
	json_object *advice;
	const char *why;
	int rc;

	memset(&q, 0, sizeof(q));
	q.provider = llm_provider_parse(k->provider);
	q.base_url = q.provider == LLM_OPENAI ? r->cfg->openai_api_base :
		     r->cfg->anthropic_api_base;
	q.api_key = k->api_key;
	q.model = k->model;
	q.system = advise_system_prompt();
	q.user = advise_prompt(r->arena, &g->in, heuristics);
	q.max_tokens = r->cfg->llm_max_tokens;
	q.timeout_seconds = r->cfg->llm_timeout_seconds;
	q.json_reply = 1;
	if (q.user == NULL) {
		*out = llm_error(k->provider, k->model, "prompt_too_large",
				 "the plan is too large to send for AI advice");
		return 0;
	}
	if ((rc = llm_call(&rep, r->arena, &q)) < 0)
		return rc;
	if (rep.error != NULL) {
		*out = llm_error(k->provider, k->model, rep.error, rep.detail);
		return 0;
	}
	if (advise_reply_validate(&advice, &why, rep.text, &g->in) < 0) {
		log_warn("augment %s: the LLM reply was rejected: %s", g->plan_id, why);
		*out = llm_error(k->provider, rep.model ? rep.model : k->model,
				 "malformed_reply", why);
		return 0;
	}
	*out = llm_result(k, &rep, advice);
	return 0;
}

/*
 * The tier gate for the AI part: a refusal is reported inside the advisory,
 * not as the response (the heuristics are always available).
 */
static int ai_allowed(json_object **refusal, struct req *r, const struct api_llm_settings *k)
{
	int rc = billing_check_quota(r, BILLING_LIMIT_AI_AUGMENT);
	json_object *answer;
	const char *detail;

	if (rc <= 0)
		return rc < 0 ? rc : 1;
	/* the refusal's own words (they say how to lift the limit), then no response */
	answer = r->body_out ? api_json_parse(r->body_out) : NULL;
	detail = answer ? json_object_get_string(json_object_object_get(answer, "detail")) : NULL;
	*refusal = llm_error(k->provider, k->model, "tier_limit_reached", detail ? detail :
			     "the tenant's tier does not include AI augment");
	json_object_put(answer);
	r->status = 0;
	r->error_code = NULL;
	r->body_out = NULL;
	r->body_out_len = 0;
	return 0;
}

/* advisory.llm: null without a key or with AI advisory switched off. */
static int llm_part(json_object **out, struct req *r, const struct augment *g,
		    json_object *heuristics)
{
	struct api_llm_settings k;
	int rc = api_settings_llm(&k, r);

	*out = NULL;
	if (rc == IL_EINVALID) {
		*out = llm_error(NULL, NULL, "key_unreadable",
				 "the stored API key cannot be decrypted; store it again");
		return 0;
	}
	if (rc < 0 || !k.configured || !k.ai_advisory_enabled)
		return rc;
	if ((rc = ai_allowed(out, r, &k)) <= 0)
		return rc;
	return llm_advice(out, r, g, &k, heuristics);
}

static int build_advisory(json_object **out, struct augment *g, struct req *r)
{
	json_object *o = NULL, *llm = NULL;
	int rc;

	g->in.steps = g->steps;
	g->in.n_steps = g->n_steps;
	g->in.environment = g->environment;
	g->in.cost_per_second = r->cfg->cost_per_compute_second;
	if ((rc = load_history(g, r)) < 0)
		return rc;
	load_projects(g, r);
	if ((rc = advise_heuristics(&o, r->arena, &g->in)) < 0)
		return rc;
	if (json_arena_own(r->arena, o) < 0)
		return IL_ENOMEM;
	json_object_object_add(o, "sql_analyzed",
			       json_object_new_boolean(g->in.target != NULL));
	if ((rc = llm_part(&llm, r, g, o)) < 0)
		return rc;
	json_object_object_add(o, "llm", llm);
	*out = o;
	return 0;
}

/*
 * POST /api/v1/plans/:id/augment (operator): computes the advisory (cost,
 * risk and lint per step; with a key and AI advisory on, one LLM call) and
 * stores it beside the plan, replacing an earlier one. The plan's steps, ids
 * and bytes never change. 200 with the plan; 404 for an unknown plan or one
 * of another tenant. Provider failures are reported in advisory.llm. The
 * plan row is not locked while the provider thinks: a concurrent augment
 * simply writes the last advisory.
 */
int api_plans_augment(struct req *r)
{
	struct augment g;
	PGresult *plan;
	json_object *advisory;
	const char *id = req_param(r, 0);
	int rc;

	memset(&g, 0, sizeof(g));
	g.plan_id = id;
	if (id == NULL || !is_hex_string(id, 64, 64) ||
	    (rc = db_plan_get(&plan, r->db, r->arena, r->who.tenant_id, id, 0)) == IL_ENOTFOUND) {
		req_error(r, 404, "not_found", "plan %.80s not found", id ? id : "");
		return 0;
	}
	if (rc < 0 || (rc = plan_source(&g, r)) < 0 ||
	    (rc = read_steps(&g, r, db_val(plan, 0, PLAN_TEXT))) < 0 ||
	    (rc = build_advisory(&advisory, &g, r)) < 0 ||
	    (rc = db_plan_set_advisory(r->db, r->arena, r->who.tenant_id, id,
					json_object_to_json_string_ext(
						advisory, JSON_C_TO_STRING_PLAIN))) < 0 ||
	    (rc = db_audit_append(r->db, r->arena, r->who.tenant_id, r->who.email,
				  "plan_augmented", "plan", id, NULL)) < 0)
		return rc;
	return api_plan_respond(r, id, 200);
}
