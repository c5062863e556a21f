/* cli_api.c: requests to the IronLayer API, with tokens refreshed as needed */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bin/cli_api.h"
#include "bin/cli_out.h"
#include "build-config.h"
#include "util/arena.h"
#include "util/error.h"
#include "util/json.h"
#include "util/strbuf.h"

#define DEFAULT_URL "http://localhost:8000"
#define MAX_ANSWER (64L * 1024 * 1024)
#define CONNECT_TIMEOUT_S 10L

/* The base URL without trailing slashes. */
static const char *base_url(struct arena *a, const char *url)
{
	size_t n = strlen(url);

	while (n > 0 && url[n - 1] == '/')
		n--;
	return arena_strndup(a, url, n);
}

/* Tokens from the credentials file, when they are for this server. */
static void logged_in_tokens(struct cli_api *c, const char *url)
{
	struct cli_credentials cred;

	if (c->cred_path == NULL || cli_credentials_load(&cred, c->a, c->cred_path) != 0)
		return;
	if (url != NULL && strcmp(base_url(c->a, cred.url), url) != 0)
		return;
	c->cred = cred;
	c->cred.url = base_url(c->a, cred.url);
}

int cli_api_open(struct cli_api *c, struct arena *a, const char *cmd, const char *url_opt,
		 int need_token)
{
	const char *url = url_opt ? url_opt : getenv("IRONLAYER_URL");
	const char *env_token = getenv("IRONLAYER_TOKEN");

	memset(c, 0, sizeof(*c));
	c->cmd = cmd;
	c->a = a;
	c->cred_path = cli_credentials_path(a);
	if (url != NULL && *url == '\0')
		url = NULL;
	if (url != NULL)
		url = base_url(a, url);
	if (env_token != NULL && *env_token != '\0') {
		c->cred.access_token = env_token;
		c->cred_path = NULL;      /* a token from the environment is never stored */
	} else {
		logged_in_tokens(c, url);
	}
	c->url = url ? url : c->cred.url ? c->cred.url : DEFAULT_URL;
	if (need_token && c->cred.access_token == NULL) {
		fprintf(stderr, "ironlayer %s: not logged in to %s: run `ironlayer login%s%s` "
			"or set IRONLAYER_TOKEN\n", cmd, c->url, url ? " --url " : "",
			url ? url : "");
		return 1;
	}
	/* the CLI talks to the server its user named, over two transfers at once when it
	 * applies (curl's multi interface): not a request the server makes on a tenant's
	 * behalf, which util/httpc.c is for */
	c->curl = curl_easy_init();   /* lint: allow CURLINIT */
	if (c->curl == NULL) {
		fprintf(stderr, "ironlayer %s: cannot start libcurl\n", cmd);
		return 1;
	}
	return 0;
}

void cli_api_close(struct cli_api *c)
{
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	c->curl = NULL;
}

static size_t collect(char *data, size_t size, size_t nmemb, void *arg)
{
	struct strbuf *sb = arg;

	return strbuf_add(sb, data, size * nmemb) == 0 ? size * nmemb : 0;
}

struct header_sink {
	struct cli_reply *reply;
	struct arena *a;
};

/* Keeps the X-Total-Count header of an answer. */
static size_t header_line(char *data, size_t size, size_t nmemb, void *arg)
{
	struct header_sink *hs = arg;
	size_t n = size * nmemb, len;
	const char *v;

	if (n <= 14 || strncasecmp(data, "X-Total-Count:", 14) != 0)
		return n;
	for (v = data + 14, len = n - 14; len > 0 && (*v == ' ' || *v == '\t'); v++, len--)
		;
	while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == '\n'))
		len--;
	hs->reply->total = arena_strndup(hs->a, v, len);
	return n;
}

static void set_request(CURL *h, struct cli_api *c, const char *method, const char *path,
			const char *body, struct curl_slist **headers)
{
	const char *auth = c->cred.access_token ?
		arena_printf(c->a, "Authorization: Bearer %s", c->cred.access_token) : NULL;

	*headers = curl_slist_append(NULL, "Accept: application/json");
	*headers = curl_slist_append(*headers, "Expect:");
	if (auth != NULL)
		*headers = curl_slist_append(*headers, auth);
	if (body != NULL)
		*headers = curl_slist_append(*headers, "Content-Type: application/json");
	curl_easy_setopt(h, CURLOPT_URL, arena_printf(c->a, "%s%s", c->url, path));
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, *headers);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "ironlayer-cli/" PACKAGE_VERSION);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	if (body != NULL) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
}

CURL *cli_api_easy(struct cli_api *c, const char *method, const char *path, const char *body,
		   struct curl_slist **headers, struct strbuf *sink)
{
	CURL *h = curl_easy_init();   /* lint: allow CURLINIT (see cli_api_open) */

	*headers = NULL;
	if (h == NULL)
		return NULL;
	strbuf_init(sink, c->a, MAX_ANSWER);
	strbuf_adds(sink, "");
	set_request(h, c, method, path, body, headers);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, sink);
	return h;
}

json_object *cli_api_parse(struct arena *a, const char *text, size_t len)
{
	json_tokener *tok = json_tokener_new();
	json_object *o = tok ? json_tokener_parse_ex(tok, text, (int)len) : NULL;

	if (tok != NULL && json_tokener_get_error(tok) != json_tokener_success && o != NULL) {
		json_object_put(o);
		o = NULL;
	}
	if (tok != NULL)
		json_tokener_free(tok);
	if (o != NULL && json_arena_own(a, o) < 0)
		o = NULL;
	return o;
}

/* One exchange on the connection's handle; 0 when an answer came. */
static int exchange(struct cli_api *c, const char *method, const char *path, const char *body,
		    struct cli_reply *out)
{
	struct curl_slist *headers = NULL;
	struct header_sink hs = { out, c->a };
	struct strbuf sink;
	CURLcode rc;

	memset(out, 0, sizeof(*out));
	curl_easy_reset(c->curl);
	strbuf_init(&sink, c->a, MAX_ANSWER);
	strbuf_adds(&sink, "");
	set_request(c->curl, c, method, path, body, &headers);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, header_line);
	curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, &hs);
	rc = curl_easy_perform(c->curl);
	curl_slist_free_all(headers);
	out->body = strbuf_cstr(&sink);
	if (rc != CURLE_OK || out->body == NULL) {
		fprintf(stderr, "ironlayer %s: cannot reach %s: %s\n", c->cmd, c->url,
			rc != CURLE_OK ? curl_easy_strerror(rc) : "answer too large");
		return 1;
	}
	out->len = sink.len;
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &out->status);
	out->json = cli_api_parse(c->a, out->body, out->len);
	return 0;
}

/* Trades the refresh token for a new pair and stores it; 0 when that worked. */
static int refresh_tokens(struct cli_api *c)
{
	struct cli_reply r;
	const char *body, *access, *refresh, *err = NULL, *saved = c->cred.access_token;
	json_object *o = json_object_new_object();

	if (c->cred_path == NULL || c->cred.refresh_token == NULL || o == NULL ||
	    json_arena_own(c->a, o) < 0)
		return -1;
	json_object_object_add(o, "refresh_token", json_object_new_string(c->cred.refresh_token));
	body = json_object_to_json_string(o);
	c->cred.access_token = NULL;
	if (exchange(c, "POST", "/api/v1/auth/refresh", body, &r) != 0 || r.status != 200 ||
	    (access = cli_str(r.json, "access_token")) == NULL ||
	    (refresh = cli_str(r.json, "refresh_token")) == NULL) {
		c->cred.access_token = saved;
		return -1;
	}
	c->cred.access_token = access;
	c->cred.refresh_token = refresh;
	if (cli_credentials_save(&c->cred, c->a, c->cred_path, &err) < 0)
		fprintf(stderr, "ironlayer %s: cannot store the refreshed tokens in %s: %s\n",
			c->cmd, c->cred_path, err);
	return 0;
}

int cli_api_call(struct cli_api *c, const char *method, const char *path, json_object *body,
		 struct cli_reply *out)
{
	const char *text = body ? json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN) :
		strcmp(method, "POST") == 0 ? "{}" : NULL;

	if (exchange(c, method, path, text, out) != 0)
		return 1;
	/* an expired access token: trade the refresh token once, then ask again */
	if (out->status == 401 && c->cred.refresh_token != NULL && refresh_tokens(c) == 0)
		return exchange(c, method, path, text, out);
	return 0;
}

/* "field: msg" of one validation item (the field is loc's last part). */
static void add_invalid(struct strbuf *sb, json_object *item)
{
	json_object *loc = json_object_object_get(item, "loc");
	size_t n = json_object_is_type(loc, json_type_array) ? json_object_array_length(loc) : 0;
	const char *field = n > 1 ? json_object_get_string(json_object_array_get_idx(loc, n - 1)) :
		NULL, *msg = cli_str(item, "msg");

	if (field != NULL)
		strbuf_addf(sb, "%s: ", field);
	strbuf_adds(sb, msg ? msg : "invalid value");
}

const char *cli_api_detail(struct arena *a, const struct cli_reply *r)
{
	json_object *d = r->json ? json_object_object_get(r->json, "detail") : NULL;
	struct strbuf sb;
	size_t i;

	if (d != NULL && json_object_is_type(d, json_type_string))
		return json_object_get_string(d);
	if (d == NULL || !json_object_is_type(d, json_type_array))
		return arena_printf(a, "HTTP %ld%s%.200s", r->status, r->len ? ": " : "",
				    r->body ? r->body : "");
	strbuf_init(&sb, a, 1 << 16);
	for (i = 0; i < json_object_array_length(d); i++) {
		strbuf_adds(&sb, i ? "; " : "");
		add_invalid(&sb, json_object_array_get_idx(d, i));
	}
	return strbuf_cstr(&sb) ? strbuf_cstr(&sb) : "invalid request";
}

int cli_api_ok(const struct cli_api *c, const struct cli_reply *r)
{
	if (r->status >= 200 && r->status < 300)
		return 0;
	fprintf(stderr, "ironlayer %s: %s\n", c->cmd, cli_api_detail(c->a, r));
	if (r->status == 401 && c->cred_path != NULL)
		fprintf(stderr, "ironlayer %s: log in again with `ironlayer login --url %s`\n",
			c->cmd, c->url);
	return 1;
}

json_object *cli_list_items(json_object *reply)
{
	json_object *items;

	if (reply == NULL)
		return NULL;
	if (json_object_is_type(reply, json_type_array))
		return reply;
	if (json_object_object_get_ex(reply, "items", &items) &&
	    json_object_is_type(items, json_type_array))
		return items;
	return NULL;
}
