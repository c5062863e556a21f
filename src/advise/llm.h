/* llm.h (advise): one call to an LLM provider (Anthropic Messages, OpenAI Chat) */
#ifndef IL_ADVISE_LLM_H
#define IL_ADVISE_LLM_H

struct arena;

enum llm_provider { LLM_ANTHROPIC, LLM_OPENAI, LLM_NONE };

/* "anthropic" / "openai" and back (LLM_NONE for anything else). */
const char *llm_provider_name(enum llm_provider p);
enum llm_provider llm_provider_parse(const char *name);

/* The Anthropic API version header every request carries. */
#define LLM_ANTHROPIC_VERSION "2023-06-01"
/* Bytes of a provider answer read before giving up. */
#define LLM_MAX_RESPONSE (1024 * 1024)

struct llm_request {
	enum llm_provider provider;
	const char *base_url;     /* https://api.anthropic.com, no trailing path */
	const char *api_key;      /* never logged */
	const char *model;
	const char *system;       /* NULL for none */
	const char *user;
	long max_tokens;
	long timeout_seconds;
	int json_reply;           /* ask OpenAI for a JSON object reply */
};

struct llm_reply {
	/*
	 * NULL on success, else a stable code: invalid_api_key, rate_limited,
	 * timeout, unreachable, provider_error, malformed_response,
	 * permission_denied, model_not_found, response_too_large.
	 */
	const char *error;
	const char *detail;       /* a short message for people (no provider text) */
	long http_status;         /* 0 when no answer came */
	long latency_ms;
	const char *text;         /* the reply text (first text block / choice) */
	const char *model;        /* the model the provider says answered */
	long input_tokens, output_tokens;
};

/*
 * Sends one request. Provider failures are not errors of this function:
 * they come back in out->error. Returns 0, or IL_ENOMEM.
 */
int llm_call(struct llm_reply *out, struct arena *a, const struct llm_request *req);

#endif
