/* settings.c: tenant settings and the tenant's own LLM key (sealed, never shown) */
#include <string.h>

#include "advise/augment.h"
#include "advise/llm.h"
#include "api/api.h"
#include "db/auth.h"
#include "db/settings.h"
#include "http/body.h"
#include "util/arena.h"
#include "util/config.h"
#include "util/error.h"
#include "util/log.h"
#include "util/secret.h"

/* Whether AI advisory is on for the tenant: its own choice, else the server's default. */
static int advisory_enabled(const struct req *r, const struct db_settings *s)
{
	return s->ai_advisory_enabled >= 0 ? s->ai_advisory_enabled : r->cfg->ai_advisory_enabled;
}

/* The "llm" object of settings responses: never the key itself. */
static json_object *llm_json(const struct req *r, const struct db_settings *s)
{
	json_object *o = json_object_new_object();
	const char *model = s->model;
	int configured = s->key_sealed != NULL;

	if (configured && model == NULL)
		model = advise_llm_default_model(r->cfg, s->provider);
	json_object_object_add(o, "configured", json_object_new_boolean(configured));
	json_object_object_add(o, "provider", api_str(configured ? s->provider : NULL));
	json_object_object_add(o, "key_last4", api_str(configured ? s->key_last4 : NULL));
	json_object_object_add(o, "key_prefix", api_str(configured ? s->key_prefix : NULL));
	json_object_object_add(o, "updated_at", api_str(s->key_updated_at));
	json_object_object_add(o, "model", api_str(configured ? model : NULL));
	return o;
}

/*
 * Fields the reference's clients read: llm_enabled, llm_has_key,
 * llm_key_prefix (the prefix and "...", as the reference's scripts see it)
 * and llm_key {has_key, key_prefix, stored_at} (the web UI appends "...").
 */
static void add_compat(struct req *r, json_object *o, const struct db_settings *s, int enabled)
{
	json_object *k = json_object_new_object();
	int has = s->key_sealed != NULL;
	const char *prefix = has ? s->key_prefix : NULL;

	json_object_object_add(o, "llm_enabled", json_object_new_boolean(enabled));
	json_object_object_add(o, "llm_has_key", json_object_new_boolean(has));
	json_object_object_add(o, "llm_key_prefix",
			       api_str(prefix ? arena_printf(r->arena, "%s...", prefix) : NULL));
	json_object_object_add(k, "has_key", json_object_new_boolean(has));
	json_object_object_add(k, "key_prefix", api_str(prefix));
	json_object_object_add(k, "key_last4", api_str(has ? s->key_last4 : NULL));
	json_object_object_add(k, "stored_at", api_str(s->key_updated_at));
	json_object_object_add(o, "llm_key", k);
}

/* The configured rate, printed as configured (0.0007, not 0.00069999…). */
static json_object *cost_json(struct req *r)
{
	double v = r->cfg->cost_per_compute_second;
	const char *text = arena_printf(r->arena, "%.10g", v);

	return text ? json_object_new_double_s(v, text) : json_object_new_double(v);
}

static int respond_settings(struct req *r)
{
	struct db_settings s;
	json_object *o;
	int rc = db_settings_get(&s, r->db, r->arena, r->who.tenant_id), enabled;

	if (rc < 0)
		return rc;
	enabled = advisory_enabled(r, &s);
	o = json_object_new_object();
	json_object_object_add(o, "tenant_id", json_object_new_string(r->who.tenant_id));
	json_object_object_add(o, "tenant_name", api_str(s.tenant_name));
	json_object_object_add(o, "llm", llm_json(r, &s));
	json_object_object_add(o, "ai_advisory_enabled", json_object_new_boolean(enabled));
	json_object_object_add(o, "cost_per_compute_second", cost_json(r));
	json_object_object_add(o, "default_lookback_days",
			       json_object_new_int64(r->cfg->default_lookback_days));
	add_compat(r, o, &s, enabled);
	req_json(r, 200, o);
	return 0;
}

/* GET /api/v1/settings (viewer): 200 with the settings; the key is never shown. */
int api_settings_get(struct req *r)
{
	return respond_settings(r);
}

enum { PATCH_ENABLED, PATCH__MAX };
static const struct field patch_fields[PATCH__MAX] = {
	[PATCH_ENABLED] = { "ai_advisory_enabled", FIELD_BOOL, 1, 0, 0, 0, NULL },
};

/* PATCH /api/v1/settings (admin) {ai_advisory_enabled}: 200 with the settings. */
int api_settings_patch(struct req *r)
{
	struct field_value v[PATCH__MAX];
	int rc, on;

	if (body_read(r, patch_fields, PATCH__MAX, v))
		return 0;
	on = v[PATCH_ENABLED].b;
	if ((rc = db_settings_set_advisory(r->db, r->arena, r->who.tenant_id, on)) < 0 ||
	    (rc = db_audit_append(r->db, r->arena, r->who.tenant_id, r->who.email,
				  on ? "ai_advisory_enabled" : "ai_advisory_disabled",
				  "settings", r->who.tenant_id, NULL)) < 0)
		return rc;
	return respond_settings(r);
}

static const char *check_provider(const char *s)
{
	return llm_provider_parse(s) != LLM_NONE ? NULL : "must be anthropic or openai";
}

/* Printable ASCII without spaces: what provider keys are, and safe in a header. */
static const char *check_key(const char *s)
{
	size_t n = strlen(s), i;

	if (n < 10)
		return "String should have at least 10 characters";
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return "must be printable ASCII without spaces";
	return NULL;
}

static const char *check_model(const char *s)
{
	size_t i;

	if (*s == '\0')
		return "String should have at least 1 character";
	for (i = 0; s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || strchr("._:/-", s[i]) != NULL))
			return "may hold letters, digits and . _ : / - only";
	return NULL;
}

enum { KEY_PROVIDER, KEY_API_KEY, KEY_MODEL, KEY__MAX };
static const struct field key_fields[KEY__MAX] = {
	[KEY_PROVIDER] = { "provider", FIELD_STRING, 0, 16, 0, 0, check_provider },
	[KEY_API_KEY] = { "api_key", FIELD_STRING, 1, 512, 0, 0, check_key },
	[KEY_MODEL] = { "model", FIELD_STRING, 0, 128, 0, 0, check_model },
};

/* The provider a key's own prefix names (sk-ant- is Anthropic's, sk- OpenAI's), or NULL. */
static const char *provider_of_key(const char *key)
{
	if (strncmp(key, "sk-ant-", 7) == 0)
		return "anthropic";
	return strncmp(key, "sk-", 3) == 0 ? "openai" : NULL;
}

/* The provider given, else the key's; NULL after recording a 422. */
static const char *key_provider(struct req *r, const struct field_value *v)
{
	const struct field_value *given = &v[KEY_PROVIDER], *key = &v[KEY_API_KEY];
	const char *p = given->present ? given->str : key->present ? provider_of_key(key->str) :
			NULL;

	if (p == NULL && key->present && !given->present)
		req_invalid(r, "body", "provider", "Field required: the key does not tell its"
			    " provider (sk-ant-... is anthropic, sk-... openai)", "missing");
	return p;
}

/*
 * The part of a key that may be shown before it: its type marker, the
 * leading characters up to the last '-' among the first 8 (sk-ant-,
 * sk-proj-, sk-), never a random character; and only when at least 8
 * characters between it and the shown last four stay unseen. NULL when
 * there is none.
 */
static const char *key_prefix(struct req *r, const struct field_value *key)
{
	size_t n = key->len < 8 ? key->len : 8;

	while (n > 0 && key->str[n - 1] != '-')
		n--;
	if (n == 0 || n + 8 + 4 > key->len)
		return NULL;
	return arena_strndup(r->arena, key->str, n);
}

/* The reference's PUT answer {status, key_prefix} with our "llm" object's fields. */
static json_object *stored_json(const struct req *r, const struct db_settings *s)
{
	json_object *o = llm_json(r, s);

	json_object_object_add(o, "status", json_object_new_string("stored"));
	json_object_object_add(o, "has_key", json_object_new_boolean(1));
	json_object_object_add(o, "llm_enabled",
			       json_object_new_boolean(advisory_enabled(r, s)));
	return o;
}

/*
 * PUT /api/v1/settings/llm-key (admin) {api_key, provider?, model?}: seals
 * the key under the master key (tenant id as associated data) and answers
 * 200 with {status: "stored", key_prefix, has_key, ...the "llm" object}.
 * Without provider, the key's own prefix names it (sk-ant- anthropic, sk-
 * openai). 422 for a bad or unknown provider, key or model.
 */
int api_settings_put_key(struct req *r)
{
	struct field_value v[KEY__MAX];
	const char *sealed, *meta, *provider;
	struct db_settings s;
	int rc;

	body_collect(r, key_fields, KEY__MAX, v);
	provider = key_provider(r, v);
	if (req_validation_finish(r))
		return 0;
	if (secret_seal(&sealed, r->arena, r->cfg, r->who.tenant_id, SECRET_LLM_KEY,
			v[KEY_API_KEY].str) < 0)
		return IL_ERR;
	meta = arena_printf(r->arena, "{\"provider\": \"%s\"}", provider);
	if ((rc = db_settings_store_key(r->db, r->arena, r->who.tenant_id, provider, sealed,
					key_prefix(r, &v[KEY_API_KEY]),
					v[KEY_API_KEY].str + v[KEY_API_KEY].len - 4,
					v[KEY_MODEL].present ? v[KEY_MODEL].str : NULL,
					r->cfg->ai_advisory_enabled)) < 0 ||
	    (rc = db_audit_append(r->db, r->arena, r->who.tenant_id, r->who.email,
				  "llm_key_stored", "settings", r->who.tenant_id, meta)) < 0 ||
	    (rc = db_settings_get(&s, r->db, r->arena, r->who.tenant_id)) < 0)
		return rc;
	req_json(r, 200, stored_json(r, &s));
	return 0;
}

/*
 * DELETE /api/v1/settings/llm-key (admin): 200 {status: "deleted",
 * has_key: false, key_prefix: null, llm_enabled}, whether or not a key was
 * stored.
 */
int api_settings_delete_key(struct req *r)
{
	struct db_settings s;
	json_object *o;
	int rc, had = 0;

	if ((rc = db_settings_clear_key(&had, r->db, r->arena, r->who.tenant_id)) < 0)
		return rc;
	if (had && (rc = db_audit_append(r->db, r->arena, r->who.tenant_id, r->who.email,
					 "llm_key_deleted", "settings", r->who.tenant_id,
					 NULL)) < 0)
		return rc;
	if ((rc = db_settings_get(&s, r->db, r->arena, r->who.tenant_id)) < 0)
		return rc;
	o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string("deleted"));
	json_object_object_add(o, "has_key", json_object_new_boolean(0));
	json_object_object_add(o, "key_prefix", NULL);
	json_object_object_add(o, "llm_enabled", json_object_new_boolean(advisory_enabled(r, &s)));
	req_json(r, 200, o);
	return 0;
}

static json_object *test_json(const struct advise_llm_settings *k, const struct llm_reply *rep)
{
	json_object *o = json_object_new_object();
	int ok = rep->error == NULL;

	json_object_object_add(o, "ok", json_object_new_boolean(ok));
	json_object_object_add(o, "valid", json_object_new_boolean(ok));
	json_object_object_add(o, "status", json_object_new_string(ok ? "ok" : "error"));
	json_object_object_add(o, "provider", json_object_new_string(k->provider));
	json_object_object_add(o, "model", api_str(rep->model ? rep->model : k->model));
	json_object_object_add(o, "latency_ms", json_object_new_int64(rep->latency_ms));
	json_object_object_add(o, "error", api_str(rep->error));
	json_object_object_add(o, "detail", api_str(rep->detail));
	return o;
}

/*
 * POST /api/v1/settings/llm-key/test (admin): one minimal real call to the
 * provider. 200 {ok, valid, provider, model, latency_ms, error} whatever the
 * provider said (a rejected key is ok:false, error "invalid_api_key"); 404
 * when no key is stored; 409 when the stored key does not decrypt.
 */
int api_settings_test_key(struct req *r)
{
	struct advise_ctx c = { r->db, r->arena, r->cfg, r->who.tenant_id, r->who.email };
	struct advise_llm_settings k;
	struct llm_request q;
	struct llm_reply rep;
	int rc = advise_llm_settings(&k, &c);

	if (rc == IL_EINVALID) {
		req_error(r, 409, "key_unreadable", "the stored LLM API key cannot be decrypted"
			  " (it was sealed for another tenant or master key); store it again");
		return 0;
	}
	if (rc < 0)
		return rc;
	if (!k.configured) {
		req_error(r, 404, "not_found", "no LLM API key is stored for this tenant;"
			  " store one with PUT /api/v1/settings/llm-key");
		return 0;
	}
	memset(&q, 0, sizeof(q));
	q.provider = llm_provider_parse(k.provider);
	q.base_url = q.provider == LLM_OPENAI ? r->cfg->openai_api_base :
		     r->cfg->anthropic_api_base;
	q.api_key = k.api_key;
	q.model = k.model;
	q.user = "ping";
	q.max_tokens = 8;
	q.timeout_seconds = r->cfg->llm_test_timeout_seconds;
	if ((rc = llm_call(&rep, r->arena, &q)) < 0)
		return rc;
	req_json(r, 200, test_json(&k, &rep));
	return 0;
}
