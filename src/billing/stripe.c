/* stripe.c (billing): POSTs to the Stripe API with libcurl, reads JSON answers */
#include "billing/stripe.h"

#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "core/json_arena.h"
#include "util/arena.h"
#include "util/config.h"
#include "util/crypto.h"
#include "util/error.h"
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

static size_t collect(char *data, size_t size, size_t nmemb, void *arg)
{
	struct strbuf *sb = arg;

	if (strbuf_add(sb, data, size * nmemb) < 0)
		return 0;
	return size * nmemb;
}

/* The response text as a JSON object owned by the arena, or NULL. */
static json_object *parse_answer(struct arena *a, const struct strbuf *sb)
{
	const char *text = strbuf_cstr(sb);
	json_object *o = text ? json_tokener_parse(text) : NULL;

	if (o == NULL)
		return NULL;
	if (json_arena_own(a, o) < 0)
		return NULL;
	return json_object_is_type(o, json_type_object) ? o : NULL;
}

/* Builds the header list; NULL when out of memory. */
static struct curl_slist *request_headers(const struct il_config *cfg, struct arena *a,
					  const char *idempotency_key)
{
	struct curl_slist *h = NULL, *next;
	const char *lines[4];
	size_t i;

	lines[0] = arena_printf(a, "Authorization: Bearer %s", cfg->stripe_secret_key);
	lines[1] = arena_printf(a, "Idempotency-Key: %s", idempotency_key);
	lines[2] = "Content-Type: application/x-www-form-urlencoded";
	lines[3] = "Expect:";
	for (i = 0; i < 4; i++) {
		next = lines[i] ? curl_slist_append(h, lines[i]) : NULL;
		if (next == NULL) {
			curl_slist_free_all(h);
			return NULL;
		}
		h = next;
	}
	return h;
}

/* Maps the transfer result and HTTP status to a return code, logging why. */
static int classify(CURLcode cc, long status, const char *path, json_object *answer)
{
	const char *type, *msg;

	if (cc != CURLE_OK) {
		log_error("stripe POST %s failed: %s", path, curl_easy_strerror(cc));
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
	struct strbuf answer;
	struct curl_slist *headers = NULL;
	const char *url = arena_printf(a, "%s%s", cfg->stripe_api_base, path);
	const char *form = strbuf_cstr(&f->sb);
	CURL *c = NULL;
	CURLcode cc;
	long status = 0;
	int rc = IL_ENOMEM;

	*out = NULL;
	strbuf_init(&answer, a, STRIPE_MAX_RESPONSE);
	if (url == NULL || form == NULL || idempotency_key == NULL ||
	    (headers = request_headers(cfg, a, idempotency_key)) == NULL ||
	    (c = curl_easy_init()) == NULL)
		goto out;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, cfg->stripe_timeout_seconds);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT,
			 cfg->stripe_timeout_seconds < 10 ? cfg->stripe_timeout_seconds : 10L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(form));
	curl_easy_setopt(c, CURLOPT_USERAGENT, "IronLayer");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer);
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	*out = cc == CURLE_OK ? parse_answer(a, &answer) : NULL;
	rc = classify(cc, status, path, *out);
	if (rc < 0)
		*out = NULL;
out:
	curl_easy_cleanup(c);
	curl_slist_free_all(headers);
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
	json_object *v = stripe_get(o, path);
	const char *s;

	if (v == NULL || !json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	return *s != '\0' ? s : NULL;
}
