/* apply_util.c: what the apply-limit and recovery tests share */
#include "apply_util.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define AS_OF "2026-11-01"

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void git(const char *repo, const char *args)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd), "cd '%s' && GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null "
		 "git -c user.name=t -c user.email=t@example.com -c commit.gpgsign=false %s "
		 ">/dev/null", repo, args);
	ck_assert_msg(system(cmd) == 0, "git %s in %s failed", args, repo);
}

static void head_sha(const char *repo, char *sha)
{
	char cmd[1024];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "git -C '%s' rev-parse HEAD", repo);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(fgets(sha, 48, p));
	pclose(p);
	sha[strcspn(sha, "\n")] = '\0';
	ck_assert_uint_eq(strlen(sha), 40);
}

void repo_new(char *path, char *base, const struct tenant *t, const char *name)
{
	char cmd[1024];

	snprintf(path, 512, "%s/repos/%s/%s", getenv("IL_TEST_VAR"), t->tenant_id, unique(name));
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/models'", path);
	ck_assert_int_eq(system(cmd), 0);
	git(path, "-c init.defaultBranch=main init -q .");
	git(path, "commit -q --allow-empty -m empty");
	head_sha(path, base);
}

void repo_commit(const char *repo, char *sha, const struct model_file *files, size_t n)
{
	char path[1024];
	size_t i;

	for (i = 0; i < n; i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", repo, files[i].path);
		f = fopen(path, "w");
		ck_assert_msg(f != NULL, "cannot write %s", path);
		fputs(files[i].text, f);
		fclose(f);
	}
	git(repo, "add -A");
	git(repo, "commit -q -m models");
	head_sha(repo, sha);
}

void limits_tenant(struct tenant *t, const char *prefix)
{
	char sql[256];

	tenant_new(t, prefix);
	snprintf(sql, sizeof(sql), "SELECT schema_prefix FROM environments WHERE tenant_id = '%s'"
		 " AND name = 'dev'", t->tenant_id);
	t->prefix = psql1(sql);
}

void set_tier(const struct tenant *t, const char *tier)
{
	char sql[512];

	snprintf(sql, sizeof(sql), "INSERT INTO billing_accounts (tenant_id, tier, status) VALUES"
		 " ('%s', '%s', 'active') ON CONFLICT (tenant_id) DO UPDATE SET tier = '%s',"
		 " status = 'active'", t->tenant_id, tier, tier);
	free(psql("ironlayer", sql));
}

char *plan_approved(const struct tenant *t, const char *repo, const char *base,
		    const char *target, const char *env)
{
	char body[2048];

	snprintf(body, sizeof(body), "{\"repo_path\":\"%s\",\"base_sha\":\"%s\",\"target_sha\":"
		 "\"%s\",\"as_of\":\"" AS_OF "\",\"environment\":\"%s\"}", repo, base, target, env);
	return plan_approve(t, api_json("POST", "/api/v1/plans/generate", t->token, body));
}

char *plan_approve(const struct tenant *t, struct resp *generated)
{
	char path[256], *id;
	struct resp *r;

	ck_assert_msg(generated->status == 201 || generated->status == 200, "%ld %s",
		      generated->status, generated->body);
	id = must_str(generated, "plan_id");
	resp_free(generated);
	snprintf(path, sizeof(path), "/api/v1/plans/%s/approve", id);
	r = api_json("POST", path, t->token, "{}");
	ck_assert_status(r, 200);
	resp_free(r);
	return id;
}

struct resp *apply_plan(const struct tenant *t, const char *plan_id)
{
	char path[256];

	snprintf(path, sizeof(path), "/api/v1/plans/%s/apply", plan_id);
	return api_json("POST", path, t->token, "{}");
}

const char *run_of(struct resp *r, const char *model, const char **error)
{
	json_object *runs = json_object_is_type(r->json, json_type_array) ? r->json :
			    json_object_object_get(r->json, "runs");
	size_t i;

	for (i = 0; runs != NULL && i < json_object_array_length(runs); i++) {
		json_object *run = json_object_array_get_idx(runs, i);

		if (strcmp(json_object_get_string(json_object_object_get(run, "model_name")),
			   model) != 0)
			continue;
		if (error != NULL)
			*error = json_object_get_string(json_object_object_get(run, "error_message"));
		return json_object_get_string(json_object_object_get(run, "status"));
	}
	return NULL;
}

static void *bg_apply_run(void *arg)
{
	struct bg_apply *b = arg;
	double t0 = now_s();
	struct resp *r = apply_plan(b->t, b->plan_id);

	b->seconds = now_s() - t0;
	b->status = r->status;
	snprintf(b->code, sizeof(b->code), "%s", resp_str(r, "code") ? resp_str(r, "code") : "");
	snprintf(b->plan_status, sizeof(b->plan_status), "%s",
		 resp_str(r, "status") ? resp_str(r, "status") : "");
	resp_free(r);
	return NULL;
}

void bg_apply_start(struct bg_apply *b, const struct tenant *t, const char *plan_id)
{
	memset(b, 0, sizeof(*b));
	b->t = t;
	snprintf(b->plan_id, sizeof(b->plan_id), "%s", plan_id);
	ck_assert_int_eq(pthread_create(&b->thread, NULL, bg_apply_run, b), 0);
}

void bg_apply_join(struct bg_apply *b)
{
	pthread_join(b->thread, NULL);
}

void wait_run_status(const struct tenant *t, const char *plan_id, const char *model,
		     const char *status, double seconds)
{
	double until = now_s() + seconds;
	char path[256], last[4096] = "";

	snprintf(path, sizeof(path), "/api/v1/runs?plan_id=%s&limit=100", plan_id);
	while (now_s() < until) {
		struct resp *r = api("GET", path, t->token, NULL, NULL, NULL);
		const char *st = r->status == 200 ? run_of(r, model, NULL) : NULL;
		int found = st != NULL && strcmp(st, status) == 0;

		snprintf(last, sizeof(last), "%s", r->body);
		resp_free(r);
		if (found)
			return;
		usleep(100000);
	}
	ck_abort_msg("no %s run of %s within %.0f s: %s", status, model, seconds, last);
}

long long wh_number(const char *db, const char *fmt, ...)
{
	char sql[2048], *out;
	long long v;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	out = psql(db, sql);
	ck_assert_msg((out[0] >= '0' && out[0] <= '9') || out[0] == '-', "%s: %s", sql, out);
	v = strtoll(out, NULL, 10);
	free(out);
	return v;
}

char *databricks_record(void)
{
	FILE *f = fopen(getenv("IL_TEST_DATABRICKS_RECORD"), "r");
	char *buf = NULL;
	size_t len = 0, n;
	char chunk[4096];

	if (f == NULL)                  /* the fake writes it at its first request */
		return calloc(1, 1);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		buf = realloc(buf, len + n + 1);
		ck_assert_ptr_nonnull(buf);
		memcpy(buf + len, chunk, n);
		len += n;
	}
	fclose(f);
	if (buf == NULL)
		return calloc(1, 1);
	buf[len] = '\0';
	return buf;
}

/* The pid holding a flock() on the file with inode ino, from /proc/locks (0: none). */
static int flock_holder(unsigned long ino)
{
	FILE *f = fopen("/proc/locks", "r");
	char line[512];
	int pid = 0;

	ck_assert_ptr_nonnull(f);
	while (pid == 0 && fgets(line, sizeof(line), f) != NULL) {
		char kind[16], mode[16], access[16], dev[64];
		int p;

		/* "1: FLOCK  ADVISORY  WRITE 1234 00:2a:5678 0 EOF"; waiters have "->" first */
		if (strstr(line, "->") != NULL ||
		    sscanf(line, "%*d: %15s %15s %15s %d %63s", kind, mode, access, &p, dev) != 5 ||
		    strcmp(kind, "FLOCK") != 0)
			continue;
		if (strtoul(strrchr(dev, ':') + 1, NULL, 10) == ino)
			pid = p;
	}
	fclose(f);
	return pid;
}

int apply_slot_holder(void)
{
	char path[512];
	struct stat st;
	int i, pid;

	for (i = 0; i < 16; i++) {
		snprintf(path, sizeof(path), "%s/run/apply-slot-%d.lock", getenv("IL_TEST_VAR"), i);
		if (stat(path, &st) == 0 && (pid = flock_holder((unsigned long)st.st_ino)) > 0)
			return pid;
	}
	return 0;
}

/* How many sessions hold the advisory lock key (pg_locks shows its two halves). */
static long long lock_holders(const char *key)
{
	char sql[1024], *out;
	long long n;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM pg_locks l, (SELECT hashtextextended("
		 "'%s', 0) AS k) h WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
		 " AND l.classid::bigint = (h.k >> 32) & 4294967295"
		 " AND l.objid::bigint = h.k & 4294967295", key);
	out = psql("ironlayer", sql);
	n = strtoll(out, NULL, 10);
	free(out);
	return n;
}

int hold_advisory_lock(const char *key)
{
	char conninfo[512], lock_sql[512];
	double until;
	pid_t pid;

	snprintf(conninfo, sizeof(conninfo), "host=%s/pg/run port=5432 dbname=ironlayer "
		 "user=postgres passfile=%s/secrets/pgpass", getenv("IL_TEST_VAR"),
		 getenv("IL_TEST_VAR"));
	snprintf(lock_sql, sizeof(lock_sql), "SELECT pg_advisory_lock(hashtextextended('%s', 0))",
		 key);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* the session waits idle (the client sleeps), so it ends with psql */
		setpgid(0, 0);
		if (freopen("/dev/null", "w", stdout) == NULL)
			_exit(126);
		execlp("psql", "psql", "-X", "-q", conninfo, "-c", lock_sql, "-c", "\\! sleep 60",
		       (char *)NULL);
		_exit(127);
	}
	for (until = now_s() + 10; lock_holders(key) == 0; usleep(50000))
		ck_assert_msg(now_s() < until, "the lock %s was not taken", key);
	return (int)pid;
}

void release_advisory_lock(int pid, const char *key)
{
	double until = now_s() + 10;
	int status;

	kill(-pid, SIGTERM);    /* psql and its sleep */
	waitpid(pid, &status, 0);
	/* the server ends the session as soon as it reads the end of the connection */
	while (lock_holders(key) > 0) {
		ck_assert_msg(now_s() < until, "the lock %s is still held", key);
		usleep(50000);
	}
}
