/* augment.h: a plan's advisory, computed and stored (heuristics, and the tenant's LLM) */
#ifndef IL_ADVISE_AUGMENT_H
#define IL_ADVISE_AUGMENT_H

struct arena;
struct db;
struct il_config;

/* Who augments, and with what: the request's state, bound to its tenant. */
struct advise_ctx {
	struct db *db;
	struct arena *arena;
	const struct il_config *cfg;
	const char *tenant_id;
	const char *actor;            /* the caller's email, for the audit log */
};

/* The tenant's LLM settings; api_key is the opened key (never log or return it). */
struct advise_llm_settings {
	int configured;               /* a key is stored */
	const char *provider;         /* "anthropic" or "openai", NULL without a key */
	const char *model;            /* the stored model, else the provider's default */
	const char *api_key;
	int ai_advisory_enabled;
};

/* The configured default model of a provider. */
const char *advise_llm_default_model(const struct il_config *cfg, const char *provider);

/*
 * Reads (and opens) the tenant's LLM settings; IL_EINVALID when the stored
 * key does not open. In a tenant transaction.
 */
int advise_llm_settings(struct advise_llm_settings *out, const struct advise_ctx *c);

/*
 * Computes a plan's advisory (cost, risk and lint per step; with a key, AI
 * advisory on and a tier that includes it, one LLM call whose failures are
 * reported inside it) and stores it beside the plan, replacing an earlier
 * one, with an audit record. The plan itself never changes. 0,
 * IL_ENOTFOUND for an unknown plan, or a negative code. In a tenant
 * transaction.
 */
int advise_augment(const struct advise_ctx *c, const char *plan_id);

#endif
