/* harness.h: drive the real HTTP API (lighttpd + FastCGI pool) with libcurl */
#ifndef IL_T_HARNESS_H
#define IL_T_HARNESS_H

#include <stddef.h>

#include <check.h>
#include <json-c/json.h>

struct resp {
	long status;
	char *body;          /* NUL-terminated */
	size_t len;
	char *headers;       /* raw header block */
	json_object *json;   /* parsed body, NULL when not JSON */
};

/*
 * Sends method path (relative to IL_TEST_URL) with an optional bearer token,
 * content type and body; extra_header may be NULL or "Name: value".
 * Aborts the test if the server cannot be reached.
 */
struct resp *api(const char *method, const char *path, const char *token,
		 const char *content_type, const char *body, const char *extra_header);
/* api() with a JSON body (content type application/json). */
struct resp *api_json(const char *method, const char *path, const char *token,
		      const char *body);
void resp_free(struct resp *r);
/* A response header's value (case-insensitive name), or NULL; borrowed. */
const char *resp_header(struct resp *r, const char *name);
/* A string field at a dotted path ("user.email") of the JSON body, or NULL. */
const char *resp_str(struct resp *r, const char *path);
/* An integer field at a dotted path; aborts the test when missing. */
long long resp_int(struct resp *r, const char *path);
/* X-Total-Count of a list response; fails the test when it is missing. */
long long resp_total(struct resp *r);
/* The length of a bare JSON array body; fails the test when the body is not one. */
size_t resp_len(struct resp *r);

/* Runs scripts/stack with the given arguments for the test stack; 0 on success. */
int stack(const char *args);
/* Runs psql as the cluster superuser on database db; returns its output (malloc'd). */
char *psql(const char *db, const char *sql);
/* The pids of the running workers, up to max; returns how many. */
int worker_pids(int *pids, int max);
/* A worker's resident set in KiB. */
long pid_rss_kib(int pid);
/* A process-unique string for emails and names. */
/* A response body or header block collected by curl_collect (malloc'd, NUL-terminated). */
struct curl_growbuf {
	char *p;
	size_t n;
};
/* CURLOPT_WRITEFUNCTION / CURLOPT_HEADERFUNCTION appending to a struct curl_growbuf. */
size_t curl_collect(char *data, size_t size, size_t nmemb, void *arg);

const char *unique(const char *prefix);

#define ck_assert_status(r, code) \
	ck_assert_msg((r)->status == (code), "expected %d, got %ld: %s", (code), \
		      (r)->status, (r)->body)

Suite *suite_foundation(void);

#endif

/* A key's value from the test stack's ironlayer.conf (malloc'd), or NULL. */
char *conf_value(const char *key);
/*
 * Runs the CLI (`ironlayer --config <stack conf> ARGS`) with stdin_text on its
 * standard input; returns the exit status and stores stdout+stderr in *output
 * (malloc'd) when output is not NULL.
 */
int run_cli(const char *args, const char *stdin_text, char **output);

/* Signs up a fresh account; returns the response (201 checked). */
struct resp *signup(const char *email, const char *password);
/* resp_str for a field that must exist; strdup'd so it outlives the response. */
char *must_str(struct resp *r, const char *path);

/* The password every test account is created with. */
#define TEST_PASSWORD "correct horse battery"

/* A fresh tenant: its admin's email, access token and tenant id. */
struct tenant {
	char *token;
	char *tenant_id;
	char email[160];
	char *prefix;        /* the dev environment's schema prefix, when loaded */
};
/* Signs up a new tenant whose admin's email starts with prefix. */
void tenant_new(struct tenant *t, const char *prefix);
void tenant_free(struct tenant *t);
/* The tenant's database in the shared warehouse (named like its role); valid for a few calls. */
const char *tenant_wh_db(const struct tenant *t);
/* The full commit id of a tag of the fixture repository $IL_TEST_REPO (malloc'd). */
char *fixture_sha(const char *tag);
/*
 * The tenant's own copy of the fixture repository, <repo root>/<tenant id>/api,
 * placed on first use the way an operator does it (`ironlayer repo add --tenant
 * ID $IL_TEST_REPO api`); the fixture itself lies outside every root. The
 * path lives in a small ring of buffers (valid for the next few calls).
 */
const char *tenant_repo(const struct tenant *t);

/* PUT /settings/llm-key for t (model may be NULL). */
struct resp *llm_put_key(const struct tenant *t, const char *provider, const char *key,
			 const char *model);
/* psql's one-line answer on the state database without the newline (malloc'd). */
char *psql1(const char *sql);
/* The last request the fake LLM provider recorded whose line contains needle. */
json_object *llm_last_request(const char *needle);
/* How many requests the fake LLM provider recorded with needle. */
int llm_count_requests(const char *needle);
/* The string at o.a (or o.a.b when b is not NULL); fails the test when absent. */
const char *json_str2(json_object *o, const char *a, const char *b);
/* 1 when a log of the test stack holds s anywhere. */
int worker_log_has(const char *s);

Suite *suite_auth(void);
Suite *suite_sessions(void);
Suite *suite_throttle(void);
Suite *suite_augment(void);
Suite *suite_billing_webhook(void);
Suite *suite_billing(void);
Suite *suite_settings(void);
Suite *suite_plans(void);
Suite *suite_apply(void);
Suite *suite_plan_sql(void);
Suite *suite_messages(void);
Suite *suite_prepared(void);
Suite *suite_kept(void);
Suite *suite_compat(void);
Suite *suite_security_repo(void);
Suite *suite_security_net(void);
Suite *suite_security_wh(void);
Suite *suite_apply_limits(void);
Suite *suite_apply_recovery(void);
