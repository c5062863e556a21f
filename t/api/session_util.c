/* session_util.c: requests with cookies, several headers and a chosen source address */
#include "session_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

static struct curl_slist *header_list(const char *body, const struct send_opts *o)
{
	struct curl_slist *h = curl_slist_append(NULL, "Expect:");
	char line[4096];
	int i;

	if (body != NULL)
		h = curl_slist_append(h, "Content-Type: application/json");
	if (o != NULL && o->token != NULL) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s", o->token);
		h = curl_slist_append(h, line);
	}
	for (i = 0; o != NULL && i < MAX_EXTRA_HEADERS && o->headers[i] != NULL; i++)
		h = curl_slist_append(h, o->headers[i]);
	return h;
}

struct resp *send_req(const char *method, const char *path, const char *body,
		      const struct send_opts *o)
{
	struct curl_growbuf b = { NULL, 0 }, h = { NULL, 0 };
	struct curl_slist *hdrs = header_list(body, o);
	char url[2048], source[80];
	struct resp *r = NULL;
	CURL *c = curl_easy_init();

	snprintf(url, sizeof(url), "%s%s", getenv("IL_TEST_URL"), path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, curl_collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, curl_collect);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	if (o != NULL && o->source != NULL) {
		/* "host!" makes curl bind this address, never an interface name */
		snprintf(source, sizeof(source), "host!%s", o->source);
		curl_easy_setopt(c, CURLOPT_INTERFACE, source);
	}
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	if (curl_easy_perform(c) == CURLE_OK && (r = calloc(1, sizeof(*r))) != NULL) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
		r->body = b.p ? b.p : strdup("");
		r->len = b.n;
		r->headers = h.p ? h.p : strdup("");
		r->json = json_tokener_parse(r->body);
	} else {
		free(b.p);
		free(h.p);
	}
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	return r;
}

struct resp *must_send(const char *method, const char *path, const char *body,
		       const struct send_opts *o)
{
	struct resp *r = send_req(method, path, body, o);

	ck_assert_msg(r != NULL, "%s %s: no answer", method, path);
	return r;
}

char *cookie_set(struct resp *r, const char *name, char **attrs)
{
	size_t n = strlen(name);
	const char *line = r->headers;

	if (attrs != NULL)
		*attrs = NULL;
	while (line != NULL && *line != '\0') {
		const char *end = strstr(line, "\r\n"), *v;
		size_t len = end ? (size_t)(end - line) : strlen(line);

		if (strncasecmp(line, "Set-Cookie:", 11) == 0) {
			v = line + 11;
			while (*v == ' ')
				v++;
			if (strncmp(v, name, n) == 0 && v[n] == '=') {
				const char *val = v + n + 1, *semi = memchr(val, ';', len -
							(size_t)(val - line));
				size_t vlen = semi ? (size_t)(semi - val) : len - (size_t)(val - line);

				if (attrs != NULL && semi != NULL)
					*attrs = strndup(semi, len - (size_t)(semi - line));
				return strndup(val, vlen);
			}
		}
		line = end ? end + 2 : NULL;
	}
	return NULL;
}

/* One look at the access logs. */
static int logged_client(const char *addr)
{
	static const char *const logs[] = { "lighttpd-access.log", "apache-access.log" };
	char path[512], line[4096];
	size_t n = strlen(addr), i;
	int found = 0;

	for (i = 0; i < 2 && !found; i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/log/%s", getenv("IL_TEST_VAR"), logs[i]);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		while (!found && fgets(line, sizeof(line), f) != NULL)
			found = strncmp(line, addr, n) == 0 && line[n] == ' ';
		fclose(f);
	}
	return found;
}

int access_log_has_client(const char *addr)
{
	int tries;

	/* the web server writes its access log in batches, about once a second */
	for (tries = 0; tries < 50; tries++) {
		if (logged_client(addr))
			return 1;
		usleep(100 * 1000);
	}
	return 0;
}

char *login_json(const char *email, const char *password)
{
	char *b;

	ck_assert_int_ne(asprintf(&b, "{\"email\":\"%s\",\"password\":\"%s\"}", email, password),
			 -1);
	return b;
}
