/* augment.c: a plan's advisory: heuristics, run history, and one call to the tenant's LLM */
#include <limits.h>
#include <string.h>

#include "advise/advise.h"
#include "advise/augment.h"
#include "advise/llm.h"
#include "billing/quota.h"
#include "core/project.h"
#include "db/auth.h"
#include "db/db.h"
#include "db/plans.h"
#include "db/rows.h"
#include "db/settings.h"
#include "repo/repo.h"
#include "util/arena.h"
#include "util/config.h"
#include "util/error.h"
#include "util/json.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/secret.h"
#include "util/strbuf.h"

/* A JSON string, or JSON null for NULL. */
static json_object *str_or_null(const char *s)
{
	return s != NULL ? json_object_new_string(s) : NULL;
}

const char *advise_llm_default_model(const struct il_config *cfg, const char *provider)
{
	return llm_provider_parse(provider) == LLM_OPENAI ? cfg->llm_default_model_openai :
	       cfg->llm_default_model_anthropic;
}

int advise_llm_settings(struct advise_llm_settings *out, const struct advise_ctx *c)
{
	struct db_settings s;
	int rc = db_settings_get(&s, c->db, c->arena, c->tenant_id);

	memset(out, 0, sizeof(*out));
	if (rc < 0)
		return rc;
	out->ai_advisory_enabled = s.ai_advisory_enabled >= 0 ? s.ai_advisory_enabled :
				   c->cfg->ai_advisory_enabled;
	if (s.key_sealed == NULL)
		return 0;
	out->provider = s.provider;
	out->model = s.model ? s.model : advise_llm_default_model(c->cfg, out->provider);
	if (secret_open(&out->api_key, c->arena, c->cfg, c->tenant_id, SECRET_LLM_KEY,
			s.key_sealed) < 0) {
		log_error("the stored LLM key of tenant %s does not open", c->tenant_id);
		return IL_EINVALID;
	}
	out->configured = 1;
	return 0;
}

/* Finished runs per model the history looks back over. */
#define HISTORY_RUNS 20

struct augment {
	const char *plan_id;
	const char *repo_path, *base_sha, *target_sha, *environment;
	struct advise_step *steps;
	size_t n_steps;
	struct advise_input in;
};

/* The steps of the stored plan text (read only: the plan never changes). */
static int read_steps(struct augment *g, const struct advise_ctx *c, const char *plan_text)
{
	json_object *plan = plan_text ? json_tokener_parse(plan_text) : NULL, *steps, *s, *v;
	size_t i, n;

	if (plan == NULL || json_arena_own(c->arena, plan) < 0 ||
	    !json_object_object_get_ex(plan, "steps", &steps) ||
	    !json_object_is_type(steps, json_type_array))
		return IL_ERR;
	n = json_object_array_length(steps);
	g->steps = arena_calloc(c->arena, n + 1, sizeof(*g->steps));
	if (g->steps == NULL)
		return IL_ENOMEM;
	for (i = 0; i < n; i++) {
		struct advise_step *st = &g->steps[i];

		s = json_object_array_get_idx(steps, i);
		const char *step_id = json_str(s, "step_id"), *model = json_str(s, "model");

		st->step_id = arena_strdup(c->arena, step_id ? step_id : "");
		st->model = arena_strdup(c->arena, model ? model : "");
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
static void load_projects(struct augment *g, const struct advise_ctx *c)
{
	struct repo *repo;
	struct project *base = NULL, *target = NULL;
	char real[PATH_MAX];

	if (repo_path_resolve(real, c->cfg, c->tenant_id, g->repo_path) != 0 ||
	    strcmp(real, g->repo_path) != 0) {
		log_warn("augment %s: the plan's repository path no longer leads to it",
			 g->plan_id);
		return;
	}
	if (repo_open(&repo, c->arena, g->repo_path) < 0) {
		log_warn("augment %s: the plan's repository cannot be opened", g->plan_id);
		return;
	}
	if (repo_load_project(&base, c->arena, repo, g->base_sha, c->cfg->models_dir) < 0 ||
	    repo_load_project(&target, c->arena, repo, g->target_sha, c->cfg->models_dir) < 0) {
		log_warn("augment %s: reading models failed: %s", g->plan_id,
			 repo_last_error(repo));
		return;
	}
	g->in.base = base;
	g->in.target = target;
}

/* The plan's models as a PostgreSQL array literal (model names need no quoting). */
static const char *model_array(const struct advise_ctx *c, const struct augment *g)
{
	struct strbuf sb;
	size_t i;

	strbuf_init(&sb, c->arena, IL_MAX_RESPONSE_TEXT);
	strbuf_addc(&sb, '{');
	for (i = 0; i < g->n_steps; i++)
		strbuf_addf(&sb, "%s%s", i ? "," : "", g->steps[i].model);
	strbuf_addc(&sb, '}');
	return strbuf_cstr(&sb);
}

static int load_history(struct augment *g, const struct advise_ctx *c)
{
	const char *models = model_array(c, g);
	struct db_run_outcome *h = NULL;
	double *secs;
	size_t i, row, n = 0;
	int rc;

	if (models == NULL)
		return IL_ENOMEM;
	if ((rc = db_run_outcomes(&h, &n, c->db, c->arena, c->tenant_id, g->environment, models,
				  HISTORY_RUNS)) < 0)
		return rc;
	secs = arena_calloc(c->arena, n + 1, sizeof(*secs));
	if (secs == NULL)
		return IL_ENOMEM;
	for (i = 0; i < g->n_steps; i++) {
		struct advise_history *hi = &g->steps[i].history;

		hi->runtimes = secs;
		for (row = 0; row < n; row++) {
			if (strcmp(h[row].model, g->steps[i].model) != 0)
				continue;
			hi->recent_runs++;
			if (h[row].failed)
				hi->recent_failures++;
			else if (h[row].has_runtime)
				secs[hi->n_runtimes++] = h[row].runtime_seconds;
		}
		secs += hi->n_runtimes;
	}
	return 0;
}

static json_object *llm_error(const char *provider, const char *model, const char *code,
			      const char *detail)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "provider", str_or_null(provider));
	json_object_object_add(o, "model", str_or_null(model));
	json_object_object_add(o, "error", json_object_new_string(code));
	json_object_object_add(o, "detail", str_or_null(detail));
	return o;
}

/* The validated LLM advice with provider, model and token usage. */
static json_object *llm_result(const struct advise_llm_settings *k, const struct llm_reply *rep,
			       json_object *advice)
{
	json_object *usage = json_object_new_object();

	json_object_object_add(advice, "provider", json_object_new_string(k->provider));
	json_object_object_add(advice, "model", str_or_null(rep->model ? rep->model : k->model));
	json_object_object_add(usage, "input_tokens", json_object_new_int64(rep->input_tokens));
	json_object_object_add(usage, "output_tokens", json_object_new_int64(rep->output_tokens));
	json_object_object_add(advice, "usage", usage);
	return advice;
}

/* One LLM call for the plan; every failure becomes {"error": ...}. */
static int llm_advice(json_object **out, const struct advise_ctx *c, const struct augment *g,
		      const struct advise_llm_settings *k, json_object *heuristics)
{
	struct llm_request q;
	struct llm_reply rep;
	json_object *advice;
	const char *why;
	int rc;

	memset(&q, 0, sizeof(q));
	q.provider = llm_provider_parse(k->provider);
	q.base_url = q.provider == LLM_OPENAI ? c->cfg->openai_api_base :
		     c->cfg->anthropic_api_base;
	q.api_key = k->api_key;
	q.model = k->model;
	q.system = advise_system_prompt();
	q.user = advise_prompt(c->arena, &g->in, heuristics);
	q.max_tokens = c->cfg->llm_max_tokens;
	q.timeout_seconds = c->cfg->llm_timeout_seconds;
	q.json_reply = 1;
	if (q.user == NULL) {
		*out = llm_error(k->provider, k->model, "prompt_too_large",
				 "the plan is too large to send for AI advice");
		return 0;
	}
	if ((rc = llm_call(&rep, c->arena, &q)) < 0)
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
static int ai_allowed(json_object **refusal, const struct advise_ctx *c,
		      const struct advise_llm_settings *k)
{
	struct billing_refusal why;
	int rc = billing_quota_check(&why, c->db, c->arena, c->cfg, c->tenant_id,
				     BILLING_LIMIT_AI_AUGMENT);

	if (rc <= 0)
		return rc < 0 ? rc : 1;
	/* the refusal's own words: they say how to lift the limit */
	*refusal = llm_error(k->provider, k->model, "tier_limit_reached", why.detail ?
			     why.detail : "the tenant's tier does not include AI augment");
	return 0;
}

/* advisory.llm: null without a key or with AI advisory switched off. */
static int llm_part(json_object **out, const struct advise_ctx *c, const struct augment *g,
		    json_object *heuristics)
{
	struct advise_llm_settings k;
	int rc = advise_llm_settings(&k, c);

	*out = NULL;
	if (rc == IL_EINVALID) {
		*out = llm_error(NULL, NULL, "key_unreadable",
				 "the stored API key cannot be decrypted; store it again");
		return 0;
	}
	if (rc < 0 || !k.configured || !k.ai_advisory_enabled)
		return rc;
	if ((rc = ai_allowed(out, c, &k)) <= 0)
		return rc;
	return llm_advice(out, c, g, &k, heuristics);
}

static int build_advisory(json_object **out, struct augment *g, const struct advise_ctx *c)
{
	json_object *o = NULL, *llm = NULL;
	int rc;

	g->in.steps = g->steps;
	g->in.n_steps = g->n_steps;
	g->in.environment = g->environment;
	g->in.cost_per_second = c->cfg->cost_per_compute_second;
	if ((rc = load_history(g, c)) < 0)
		return rc;
	load_projects(g, c);
	if ((rc = advise_heuristics(&o, c->arena, &g->in)) < 0)
		return rc;
	if (json_arena_own(c->arena, o) < 0)
		return IL_ENOMEM;
	json_object_object_add(o, "sql_analyzed",
			       json_object_new_boolean(g->in.target != NULL));
	if ((rc = llm_part(&llm, c, g, o)) < 0)
		return rc;
	json_object_object_add(o, "llm", llm);
	*out = o;
	return 0;
}

int advise_augment(const struct advise_ctx *c, const char *plan_id)
{
	struct augment g;
	struct db_plan plan;
	json_object *advisory;
	int rc = db_plan_load(&plan, c->db, c->arena, c->tenant_id, plan_id, 0);

	if (rc < 0)
		return rc;
	memset(&g, 0, sizeof(g));
	g.plan_id = plan_id;
	g.repo_path = plan.repo_path;
	g.base_sha = plan.base_sha;
	g.target_sha = plan.target_sha;
	g.environment = plan.environment;
	if ((rc = read_steps(&g, c, plan.plan_text)) < 0 ||
	    (rc = build_advisory(&advisory, &g, c)) < 0 ||
	    (rc = db_plan_set_advisory(c->db, c->arena, c->tenant_id, plan_id,
					json_object_to_json_string_ext(
						advisory, JSON_C_TO_STRING_PLAIN))) < 0)
		return rc;
	return db_audit_append(c->db, c->arena, c->tenant_id, c->actor, "plan_augmented", "plan",
			       plan_id, NULL);
}
