/* llm.c (advise): one call to an LLM provider (Anthropic Messages, OpenAI Chat) */
#include "advise/llm.h"

#include <string.h>

#include <json-c/json.h>

#include "util/arena.h"
#include "util/error.h"
#include "util/httpc.h"
#include "util/json.h"
#include "util/log.h"

const char *llm_provider_name(enum llm_provider p)
{
	return p == LLM_ANTHROPIC ? "anthropic" : p == LLM_OPENAI ? "openai" : "none";
}

enum llm_provider llm_provider_parse(const char *name)
{
	if (name != NULL && strcmp(name, "anthropic") == 0)
		return LLM_ANTHROPIC;
	if (name != NULL && strcmp(name, "openai") == 0)
		return LLM_OPENAI;
	return LLM_NONE;
}

static json_object *message(const char *role, const char *content)
{
	json_object *m = json_object_new_object();

	json_object_object_add(m, "role", json_object_new_string(role));
	json_object_object_add(m, "content", json_object_new_string(content));
	return m;
}

/* The request body as the provider's API documents it. */
static const char *request_body(struct arena *a, const struct llm_request *q)
{
	json_object *o = json_object_new_object(), *msgs = json_object_new_array();
	const char *text;

	json_object_object_add(o, "model", json_object_new_string(q->model));
	if (q->provider == LLM_ANTHROPIC) {
		json_object_object_add(o, "max_tokens", json_object_new_int64(q->max_tokens));
		if (q->system != NULL)
			json_object_object_add(o, "system", json_object_new_string(q->system));
	} else {
		json_object_object_add(o, "max_completion_tokens",
				       json_object_new_int64(q->max_tokens));
		if (q->system != NULL)
			json_object_array_add(msgs, message("system", q->system));
		if (q->json_reply) {
			json_object *rf = json_object_new_object();

			json_object_object_add(rf, "type", json_object_new_string("json_object"));
			json_object_object_add(o, "response_format", rf);
		}
	}
	json_object_array_add(msgs, message("user", q->user));
	json_object_object_add(o, "messages", msgs);
	text = arena_strdup(a, json_object_to_json_string_ext(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return text;
}

/* The header lines of a request to q's provider (the key's line among them). */
static const char *const *request_headers(struct arena *a, const struct llm_request *q)
{
	const char **lines = arena_alloc(a, 4 * sizeof(*lines));

	if (lines == NULL)
		return NULL;
	lines[0] = "Content-Type: application/json";
	if (q->provider == LLM_ANTHROPIC) {
		lines[1] = arena_printf(a, "x-api-key: %s", q->api_key);
		lines[2] = "anthropic-version: " LLM_ANTHROPIC_VERSION;
	} else {
		lines[1] = arena_printf(a, "Authorization: Bearer %s", q->api_key);
		lines[2] = NULL;
	}
	lines[3] = NULL;
	return lines[1] != NULL ? lines : NULL;
}

static long long_at(json_object *obj, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(obj, key, &v) ? (long)json_object_get_int64(v) : 0;
}

/* The reply text and usage of a 2xx answer; 0, or -1 when the shape is wrong. */
static int parse_success(struct llm_reply *out, struct arena *a, enum llm_provider p,
			 json_object *o)
{
	json_object *list, *item = NULL, *msg, *usage = NULL;
	const char *text = NULL;
	size_t i;

	if (p == LLM_ANTHROPIC && json_object_object_get_ex(o, "content", &list) &&
	    json_object_is_type(list, json_type_array)) {
		for (i = 0; text == NULL && i < json_object_array_length(list); i++) {
			item = json_object_array_get_idx(list, i);
			if (json_str(item, "type") && strcmp(json_str(item, "type"), "text") == 0)
				text = json_str(item, "text");
		}
	} else if (p == LLM_OPENAI && json_object_object_get_ex(o, "choices", &list) &&
		   json_object_is_type(list, json_type_array) &&
		   json_object_array_length(list) > 0 &&
		   json_object_object_get_ex(json_object_array_get_idx(list, 0), "message", &msg)) {
		text = json_str(msg, "content");
	}
	if (text == NULL)
		return -1;
	out->text = arena_strdup(a, text);
	out->model = json_str(o, "model") ? arena_strdup(a, json_str(o, "model")) : NULL;
	if (json_object_object_get_ex(o, "usage", &usage)) {
		out->input_tokens = long_at(usage, p == LLM_ANTHROPIC ? "input_tokens" :
					    "prompt_tokens");
		out->output_tokens = long_at(usage, p == LLM_ANTHROPIC ? "output_tokens" :
					     "completion_tokens");
	}
	return 0;
}

/* The provider's error type (never its message, which may quote the key). */
static const char *error_type(json_object *o)
{
	json_object *e;

	if (o == NULL || !json_object_object_get_ex(o, "error", &e))
		return "unknown";
	if (json_str(e, "code") != NULL)
		return json_str(e, "code");
	return json_str(e, "type") ? json_str(e, "type") : "unknown";
}

static void classify_status(struct llm_reply *out, long status)
{
	if (status == 401) {
		out->error = "invalid_api_key";
		out->detail = "the provider rejected the API key";
	} else if (status == 403) {
		out->error = "permission_denied";
		out->detail = "the API key may not use this model or endpoint";
	} else if (status == 404) {
		out->error = "model_not_found";
		out->detail = "the provider does not know this model";
	} else if (status == 429) {
		out->error = "rate_limited";
		out->detail = "the provider is rate limiting this key";
	} else {
		out->error = "provider_error";
		out->detail = "the provider answered with an error";
	}
}

static void classify(struct llm_reply *out, struct arena *a, const struct llm_request *q,
		     const struct httpc_response *rsp)
{
	json_object *o = NULL;

	if (rsp->result == HTTPC_TIMEOUT) {
		out->error = "timeout";
		out->detail = arena_printf(a, "the provider did not answer within %ld seconds",
					   q->timeout_seconds);
		return;
	}
	if (rsp->result == HTTPC_TOO_LARGE) {
		out->error = "response_too_large";
		out->detail = "the provider's answer exceeded the size limit";
		return;
	}
	if (rsp->result != HTTPC_OK) {
		log_warn("llm %s request failed: %s", llm_provider_name(q->provider), rsp->error);
		out->error = "unreachable";
		out->detail = "the provider could not be reached";
		return;
	}
	o = json_tokener_parse(rsp->body);
	if (out->http_status >= 200 && out->http_status < 300) {
		if (o == NULL || parse_success(out, a, q->provider, o) < 0) {
			out->error = "malformed_response";
			out->detail = "the provider's answer was not a completion";
		}
	} else {
		log_warn("llm %s answered %ld (%.60s)", llm_provider_name(q->provider),
			 out->http_status, error_type(o));
		classify_status(out, out->http_status);
	}
	json_object_put(o);
}

int llm_call(struct llm_reply *out, struct arena *a, const struct llm_request *q)
{
	struct httpc_options opt = {
		.allow_http = 1,
		.timeout_seconds = q->timeout_seconds,
		.max_response = LLM_MAX_RESPONSE,
	};
	struct httpc_response rsp;
	const char *url, *body;

	memset(out, 0, sizeof(*out));
	url = arena_printf(a, "%s%s", q->base_url, q->provider == LLM_ANTHROPIC ?
			   "/v1/messages" : "/v1/chat/completions");
	body = request_body(a, q);
	opt.headers = request_headers(a, q);
	if (url == NULL || body == NULL || opt.headers == NULL ||
	    httpc_fetch(&rsp, a, &opt, url, body, strlen(body)) < 0)
		return IL_ENOMEM;
	out->latency_ms = rsp.latency_ms;
	out->http_status = rsp.status;
	classify(out, a, q, &rsp);
	return 0;
}
