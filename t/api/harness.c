/* harness.c: drive the real HTTP API (lighttpd + FastCGI pool) with libcurl */
#include "harness.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

size_t curl_collect(char *data, size_t size, size_t nmemb, void *arg)
{
	struct curl_growbuf *g = arg;
	size_t add = size * nmemb;
	char *np = realloc(g->p, g->n + add + 1);

	if (np == NULL)
		return 0;
	memcpy(np + g->n, data, add);
	g->n += add;
	np[g->n] = '\0';
	g->p = np;
	return add;
}

static const char *base_url(void)
{
	const char *u = getenv("IL_TEST_URL");

	ck_assert_msg(u != NULL, "IL_TEST_URL is not set: run through t/api/run-api-tests.sh");
	return u;
}

struct resp *api(const char *method, const char *path, const char *token,
		 const char *content_type, const char *body, const char *extra_header)
{
	struct resp *r = calloc(1, sizeof(*r));
	struct curl_growbuf b = { NULL, 0 }, h = { NULL, 0 };
	struct curl_slist *hdrs = NULL;
	char line[4096];
	char *url;
	CURL *c = curl_easy_init();
	CURLcode rc;

	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_ne(asprintf(&url, "%s%s", base_url(), path), -1);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, curl_collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, curl_collect);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	if (token != NULL) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s", token);
		hdrs = curl_slist_append(hdrs, line);
	}
	if (content_type != NULL) {
		snprintf(line, sizeof(line), "Content-Type: %s", content_type);
		hdrs = curl_slist_append(hdrs, line);
	}
	if (extra_header != NULL)
		hdrs = curl_slist_append(hdrs, extra_header);
	hdrs = curl_slist_append(hdrs, "Expect:");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	rc = curl_easy_perform(c);
	ck_assert_msg(rc == CURLE_OK, "%s %s: %s", method, path, curl_easy_strerror(rc));
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	r->body = b.p ? b.p : strdup("");
	r->len = b.n;
	r->headers = h.p ? h.p : strdup("");
	r->json = json_tokener_parse(r->body);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	free(url);
	return r;
}

struct resp *api_json(const char *method, const char *path, const char *token,
		      const char *body)
{
	return api(method, path, token, "application/json", body, NULL);
}

void resp_free(struct resp *r)
{
	if (r == NULL)
		return;
	json_object_put(r->json);
	free(r->body);
	free(r->headers);
	free(r);
}

const char *resp_header(struct resp *r, const char *name)
{
	size_t n = strlen(name);
	char *line = r->headers;
	static char value[4096];

	while (line != NULL && *line != '\0') {
		char *end = strstr(line, "\r\n");

		if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
			const char *v = line + n + 1;
			size_t len;

			while (*v == ' ')
				v++;
			len = end ? (size_t)(end - v) : strlen(v);
			if (len >= sizeof(value))
				len = sizeof(value) - 1;
			memcpy(value, v, len);
			value[len] = '\0';
			return value;
		}
		line = end ? end + 2 : NULL;
	}
	return NULL;
}

static json_object *at_path(struct resp *r, const char *path)
{
	char buf[256], *save = NULL, *tok;
	json_object *o = r->json;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok && o; tok = strtok_r(NULL, ".", &save)) {
		if (json_object_is_type(o, json_type_array))
			o = json_object_array_get_idx(o, (size_t)strtoul(tok, NULL, 10));
		else if (!json_object_object_get_ex(o, tok, &o))
			o = NULL;
	}
	return o;
}

const char *resp_str(struct resp *r, const char *path)
{
	json_object *o = at_path(r, path);

	return o != NULL && json_object_is_type(o, json_type_string) ?
		json_object_get_string(o) : NULL;
}

long long resp_int(struct resp *r, const char *path)
{
	json_object *o = at_path(r, path);

	ck_assert_msg(o != NULL && json_object_is_type(o, json_type_int),
		      "no integer at %s in %s", path, r->body);
	return (long long)json_object_get_int64(o);
}

long long resp_total(struct resp *r)
{
	const char *v = resp_header(r, "X-Total-Count");

	ck_assert_msg(v != NULL, "no X-Total-Count in %s", r->headers);
	return strtoll(v, NULL, 10);
}

size_t resp_len(struct resp *r)
{
	ck_assert_msg(r->json != NULL && json_object_is_type(r->json, json_type_array),
		      "not a JSON array: %s", r->body);
	return json_object_array_length(r->json);
}

int stack(const char *args)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "%s %s --var %s >>%s/log/harness.log 2>&1",
		 getenv("IL_TEST_STACK"), args, getenv("IL_TEST_VAR"), getenv("IL_TEST_VAR"));
	return system(cmd);
}

char *psql(const char *db, const char *sql)
{
	char path[512], cmd[1024];
	FILE *f, *p;
	struct curl_growbuf out = { NULL, 0 };
	char buf[4096];
	size_t n;

	snprintf(path, sizeof(path), "%s/psql-input.sql", getenv("IL_TEST_VAR"));
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(sql, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd),
		 "psql -X -q -A -t -v ON_ERROR_STOP=1 'host=%s/pg/run port=5432 dbname=%s "
		 "user=postgres passfile=%s/secrets/pgpass' -f %s 2>&1", getenv("IL_TEST_VAR"), db,
		 getenv("IL_TEST_VAR"), path);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
		curl_collect(buf, 1, n, &out);
	pclose(p);
	return out.p ? out.p : strdup("");
}

/* 1 when the process's environment names this test stack's config file. */
static int serves_this_stack(const char *pid)
{
	char path[64], want[512], *env = NULL;
	size_t cap = 0;
	FILE *f;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%s/environ", pid);
	snprintf(want, sizeof(want), "IRONLAYER_CONFIG=%s/ironlayer.conf",
		 getenv("IL_TEST_VAR"));
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	while (!found && getdelim(&env, &cap, 0, f) != -1)
		found = strcmp(env, want) == 0;
	free(env);
	fclose(f);
	return found;
}

/* 1 when pid is an ironlayer-fcgi worker of this test stack. */
static int is_worker(const char *pid)
{
	char path[64], cmd[4096] = "";
	FILE *f;
	size_t n, at;
	int named = 0;

	snprintf(path, sizeof(path), "/proc/%s/cmdline", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	n = fread(cmd, 1, sizeof(cmd) - 1, f);
	fclose(f);
	cmd[n] = '\0';
	/* the worker itself, or valgrind running it (never multiwatch above it) */
	if (strstr(cmd, "ironlayer-fcgi") == NULL && strstr(cmd, "valgrind") == NULL)
		return 0;
	for (at = 0; at < n && !named; at += strlen(cmd + at) + 1) {
		size_t len = strlen(cmd + at);

		named = len >= 14 && strcmp(cmd + at + len - 14, "ironlayer-fcgi") == 0;
	}
	return named && serves_this_stack(pid);
}

int worker_pids(int *pids, int max)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL && n < max)
		if (isdigit((unsigned char)e->d_name[0]) && is_worker(e->d_name))
			pids[n++] = (int)strtol(e->d_name, NULL, 10);
	closedir(d);
	return n;
}

long pid_rss_kib(int pid)
{
	char path[64], line[256];
	FILE *f;
	long kib = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			kib = strtol(line + 6, NULL, 10);
	fclose(f);
	return kib;
}

const char *unique(const char *prefix)
{
	static char buf[8][128];
	static int slot, counter;
	char *out = buf[slot++ % 8];

	snprintf(out, sizeof(buf[0]), "%s%ld%d", prefix, (long)getpid(), counter++);
	return out;
}

char *conf_value(const char *key)
{
	char path[512], line[4096];
	size_t n = strlen(key);
	FILE *f;
	char *out = NULL;

	snprintf(path, sizeof(path), "%s/ironlayer.conf", getenv("IL_TEST_VAR"));
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	while (out == NULL && fgets(line, sizeof(line), f) != NULL) {
		char *p = line;

		if (strncmp(p, key, n) != 0)
			continue;
		p += n;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '=')
			continue;
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		p[strcspn(p, "\r\n")] = '\0';
		out = strdup(p);
	}
	fclose(f);
	return out;
}

int run_cli(const char *args, const char *stdin_text, char **output)
{
	char in_path[512], cmd[4096], buf[4096];
	struct curl_growbuf out = { NULL, 0 };
	FILE *f, *p;
	size_t n;
	int status;

	snprintf(in_path, sizeof(in_path), "%s/cli-stdin.txt", getenv("IL_TEST_VAR"));
	f = fopen(in_path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(stdin_text ? stdin_text : "", f);
	fclose(f);
	/* a library leak of the CLI's clone is suppressed (see t/api/lsan-cli.supp) */
	snprintf(cmd, sizeof(cmd), "LSAN_OPTIONS=suppressions=%s/t/api/lsan-cli.supp:print_suppressions=0 "
		 "%s/ironlayer --config %s/ironlayer.conf %s <%s 2>&1", getenv("IL_TEST_SRCDIR"),
		 getenv("IL_TEST_BUILDDIR"), getenv("IL_TEST_VAR"), args, in_path);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
		curl_collect(buf, 1, n, &out);
	status = pclose(p);
	if (output != NULL)
		*output = out.p ? out.p : strdup("");
	else
		free(out.p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct resp *signup(const char *email, const char *password)
{
	char body[1024];
	struct resp *r;

	snprintf(body, sizeof(body),
		 "{\"email\":\"%s\",\"password\":\"%s\",\"display_name\":\"Test %s\"}", email,
		 password, email);
	r = api_json("POST", "/api/v1/auth/signup", NULL, body);
	ck_assert_status(r, 201);
	return r;
}

char *must_str(struct resp *r, const char *path)
{
	const char *v = resp_str(r, path);

	ck_assert_msg(v != NULL, "no string at %s in %s", path, r->body);
	return strdup(v);
}

void tenant_new(struct tenant *t, const char *prefix)
{
	struct resp *r;

	memset(t, 0, sizeof(*t));
	snprintf(t->email, sizeof(t->email), "%s@example.com", unique(prefix));
	r = signup(t->email, TEST_PASSWORD);
	t->token = must_str(r, "access_token");
	t->tenant_id = must_str(r, "tenant_id");
	resp_free(r);
}

void tenant_free(struct tenant *t)
{
	free(t->token);
	free(t->tenant_id);
	free(t->prefix);
}

const char *tenant_wh_db(const struct tenant *t)
{
	static char ring[8][24];
	static int slot;
	char *out = ring[slot++ % 8];
	const char *id = t->tenant_id;

	/* il_t + the first 16 hex digits of the tenant id, like its warehouse role */
	snprintf(out, 24, "il_t%.8s%.4s%.4s", id, id + 9, id + 14);
	return out;
}

char *fixture_sha(const char *tag)
{
	char cmd[1024], buf[64] = "";
	FILE *p;

	snprintf(cmd, sizeof(cmd), "git -C %s rev-parse %s^{commit}", getenv("IL_TEST_REPO"),
		 tag);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), p));
	pclose(p);
	buf[strcspn(buf, "\n")] = '\0';
	ck_assert_uint_eq(strlen(buf), 40);
	return strdup(buf);
}

const char *tenant_repo(const struct tenant *t)
{
	static char ring[8][1024];
	static int slot;
	char *path = ring[slot++ % 8], args[2048], *out = NULL;
	struct stat st;

	snprintf(path, sizeof(ring[0]), "%s/repos/%s/api", getenv("IL_TEST_VAR"), t->tenant_id);
	if (stat(path, &st) == 0)
		return path;
	snprintf(args, sizeof(args), "repo add --tenant %s %s api", t->tenant_id,
		 getenv("IL_TEST_REPO"));
	ck_assert_msg(run_cli(args, NULL, &out) == 0, "ironlayer %s: %s", args, out);
	out[strcspn(out, "\n")] = '\0';
	ck_assert_msg(strcmp(out, path) == 0, "repo add printed %s, not %s", out, path);
	free(out);
	return path;
}

/* ---- helpers of the settings and augment tests ---------------------- */

struct resp *llm_put_key(const struct tenant *t, const char *provider, const char *key,
			    const char *model)
{
	char body[1024];

	if (model != NULL)
		snprintf(body, sizeof(body), "{\"provider\":\"%s\",\"api_key\":\"%s\",\"model\":\"%s\"}",
			 provider, key, model);
	else
		snprintf(body, sizeof(body), "{\"provider\":\"%s\",\"api_key\":\"%s\"}", provider,
			 key);
	return api_json("PUT", "/api/v1/settings/llm-key", t->token, body);
}

/* psql's one-line answer without the newline (malloc'd). */
char *psql1(const char *sql)
{
	char *out = psql("ironlayer", sql);

	out[strcspn(out, "\n")] = '\0';
	return out;
}

/* The last request the fake provider recorded whose line contains needle. */
json_object *llm_last_request(const char *needle)
{
	FILE *f = fopen(getenv("IL_TEST_LLM_RECORD"), "r");
	static char line[1 << 20];
	json_object *found = NULL;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strstr(line, needle) == NULL)
			continue;
		if (found != NULL)
			json_object_put(found);
		found = json_tokener_parse(line);
	}
	fclose(f);
	ck_assert_msg(found != NULL, "no provider request with %s", needle);
	return found;
}

const char *json_str2(json_object *o, const char *a, const char *b)
{
	json_object *v;

	ck_assert(json_object_object_get_ex(o, a, &v));
	if (b != NULL)
		ck_assert(json_object_object_get_ex(v, b, &v));
	return json_object_get_string(v);
}

/* How many requests the fake provider recorded with needle. */
int llm_count_requests(const char *needle)
{
	FILE *f = fopen(getenv("IL_TEST_LLM_RECORD"), "r");
	static char line[1 << 20];
	int n = 0;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL)
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

/* 1 when the worker log holds s anywhere. */
int worker_log_has(const char *s)
{
	char path[512], cmd[1024];

	snprintf(path, sizeof(path), "%s/log", getenv("IL_TEST_VAR"));
	snprintf(cmd, sizeof(cmd), "grep -rqF -- '%s' %s", s, path);
	return system(cmd) == 0;
}

