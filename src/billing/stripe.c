/* stripe.c (billing): POSTs to the Stripe API through util/httpc, reads JSON answers */
#include "billing/stripe.h"

#include <stdio.h>
#include <string.h>

#include "util/arena.h"
#include "util/config.h"
#include "util/crypto.h"
#include "util/error.h"
#include "util/httpc.h"
#include "util/json.h"
#include "util/log.h"
#include "util/parse.h"

void stripe_form_init(struct stripe_form *f, struct arena *a)
{
	strbuf_init(&f->sb, a, STRIPE_MAX_FORM);
}

static void add_encoded(struct strbuf *sb, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL) {
			strbuf_addc(sb, (char)*p);
		} else {
			strbuf_addc(sb, '%');
			strbuf_addc(sb, hex[*p >> 4]);
			strbuf_addc(sb, hex[*p & 15]);
		}
	}
}

void stripe_form_add(struct stripe_form *f, const char *name, const char *value)
{
	if (f->sb.len > 0)
		strbuf_addc(&f->sb, '&');
	add_encoded(&f->sb, name);
	strbuf_addc(&f->sb, '=');
	add_encoded(&f->sb, value);
}

const char *stripe_idempotency_key(struct arena *a)
{
	unsigned char raw[16];
	char hex[33];

	if (crypto_random(raw, sizeof(raw)) < 0)
		return NULL;
	hex_encode(raw, sizeof(raw), hex);
	return arena_printf(a, "il-%s", hex);
}

/* The response text as a JSON object owned by the arena, or NULL. */
static json_object *parse_answer(struct arena *a, const char *text)
{
	json_object *o = json_tokener_parse(text);

	if (o == NULL)
		return NULL;
	if (json_arena_own(a, o) < 0)
		return NULL;
	return json_object_is_type(o, json_type_object) ? o : NULL;
}

/* The header lines, the secret key's among them; NULL when out of memory. */
static const char *const *request_headers(const struct il_config *cfg, struct arena *a,
					  const char *idempotency_key)
{
	const char **lines = arena_alloc(a, 5 * sizeof(*lines));

	if (lines == NULL)
		return NULL;
	lines[0] = arena_printf(a, "Authorization: Bearer %s", cfg->stripe_secret_key);
	lines[1] = arena_printf(a, "Idempotency-Key: %s", idempotency_key);
	lines[2] = "Content-Type: application/x-www-form-urlencoded";
	lines[3] = "Expect:";
	lines[4] = NULL;
	return lines[0] != NULL && lines[1] != NULL ? lines : NULL;
}

/* Maps the transfer result and HTTP status to a return code, logging why. */
static int classify(const struct httpc_response *rsp, const char *path, json_object *answer)
{
	long status = rsp->status;
	const char *type, *msg;

	if (rsp->result != HTTPC_OK) {
		log_error("stripe POST %s failed: %s", path, rsp->error);
		return IL_EUNAVAIL;
	}
	if (status >= 200 && status < 300)
		return answer != NULL ? 0 : IL_ERR;
	type = answer ? stripe_str(answer, "error.type") : NULL;
	/* Stripe's message for a bad key quotes part of the key: not for the log */
	msg = answer && status != 401 ? stripe_str(answer, "error.message") : NULL;
	log_warn("stripe POST %s answered %ld: %s: %.300s", path, status,
		 type ? type : "(no type)", msg ? msg : "(message withheld)");
	if (status >= 400 && status < 500 && status != 429)
		return IL_EINVALID;
	return IL_EUNAVAIL;
}

int stripe_post(json_object **out, const struct il_config *cfg, struct arena *a,
		const char *path, const struct stripe_form *f, const char *idempotency_key)
{
	struct httpc_options opt = {
		.allow_http = 1,
		.timeout_seconds = cfg->stripe_timeout_seconds,
		.connect_timeout_seconds = cfg->stripe_timeout_seconds < 10 ?
					   cfg->stripe_timeout_seconds : 10L,
		.max_response = STRIPE_MAX_RESPONSE,
	};
	struct httpc_response rsp;
	const char *url = arena_printf(a, "%s%s", cfg->stripe_api_base, path);
	const char *form = strbuf_cstr(&f->sb);
	int rc;

	*out = NULL;
	if (url == NULL || form == NULL || idempotency_key == NULL ||
	    (opt.headers = request_headers(cfg, a, idempotency_key)) == NULL)
		return IL_ENOMEM;
	if ((rc = httpc_fetch(&rsp, a, &opt, url, form, strlen(form))) < 0)
		return rc;
	*out = rsp.result == HTTPC_OK ? parse_answer(a, rsp.body) : NULL;
	rc = classify(&rsp, path, *out);
	if (rc < 0)
		*out = NULL;
	return rc;
}

json_object *stripe_get(json_object *o, const char *path)
{
	char seg[128];
	const char *p = path;
	int64_t idx;

	while (o != NULL && *p != '\0') {
		size_t n = strcspn(p, ".");

		if (n == 0 || n >= sizeof(seg))
			return NULL;
		memcpy(seg, p, n);
		seg[n] = '\0';
		p += n + (p[n] == '.');
		if (json_object_is_type(o, json_type_array)) {
			if (parse_i64(seg, 0, 1000000, &idx) < 0)
				return NULL;
			o = json_object_array_get_idx(o, (size_t)idx);
		} else if (!json_object_is_type(o, json_type_object) ||
			   !json_object_object_get_ex(o, seg, &o)) {
			return NULL;
		}
	}
	return o;
}

const char *stripe_str(json_object *o, const char *path)
{
	const char *s = json_str(stripe_get(o, path), NULL);

	return s != NULL && *s != '\0' ? s : NULL;
}
