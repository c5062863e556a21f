/* test_repo.c: fixture repositories: revisions, golden plans, CLI */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "core/plan.h"
#include "core/project.h"
#include "repo/repo.h"
#include "repo/store.h"
#include "suites.h"
#include "util/arena.h"
#include "util/config.h"
#include "util/error.h"
#include "util/strbuf.h"

#define C1 "da7a71cc7cf4f978a4244f9487778c0177386b47"
#define C2 "22464b066bce297fddcd540b6ee8ddbb85ebf19a"
#define C3 "ab164971d7b7b7540ccf3cfd0b2530b070d94773"
#define GOLDEN IL_TOP_SRCDIR "/t/core/golden/"

static char fixtures[256];
static struct arena *a;

/* Builds the fixture repositories once for the whole suite. */
static void make_fixtures(void)
{
	char cmd[1024];

	snprintf(fixtures, sizeof(fixtures), "/tmp/il-core-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(fixtures));
	snprintf(cmd, sizeof(cmd), "bash %s/t/fixtures/make-repos.sh %s",
		 IL_TOP_SRCDIR, fixtures);
	ck_assert_int_eq(system(cmd), 0);
}

static void remove_fixtures(void)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", fixtures);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", fixtures);
}

static void setup(void)
{
	a = arena_new(0);
}

static void teardown(void)
{
	arena_free(a);
}

static struct repo *open_fixture(const char *name)
{
	struct repo *r;

	ck_assert_int_eq(repo_open(&r, a, arena_printf(a, "%s/%s", fixtures,
							  name)), 0);
	return r;
}

static struct project *load(struct repo *r, const char *commit)
{
	struct project *p;

	ck_assert_int_eq(repo_load_project(&p, a, r, commit, NULL), 0);
	return p;
}

/* Compares with a golden file; IL_UPDATE_GOLDEN=1 rewrites it instead. */
static void assert_golden(const char *name, const char *got, size_t len)
{
	const char *path = arena_printf(a, "%s%s", GOLDEN, name);
	const char *want;
	size_t wlen = 0;

	if (getenv("IL_UPDATE_GOLDEN")) {
		FILE *f = fopen(path, "wb");

		ck_assert_ptr_nonnull(f);
		fwrite(got, 1, len, f);
		fclose(f);
	}
	want = t_read(a, path, &wlen);
	ck_assert_ptr_nonnull(want);
	ck_assert_uint_eq(len, wlen);
	ck_assert_str_eq(got, want);
}

static const char *plan_json(struct repo *r, const char *base,
			     const char *target, int with_state)
{
	struct plan_inputs in;
	struct plan *p;
	const char *err, *out, *state;
	size_t len;

	plan_inputs_init(&in);
	in.base = base;
	in.target = target;
	in.as_of = "2025-06-15";
	if (with_state) {
		state = t_read(a, GOLDEN "state.json", &len);
		ck_assert_ptr_nonnull(state);
		ck_assert_int_eq(plan_state_parse(&in, a, state, len, &err), 0);
	}
	ck_assert_int_eq(plan_build(&p, a, load(r, base), load(r, target), &in,
				    &err), 0);
	ck_assert_int_eq(plan_to_json(&out, &len, a, p), 0);
	return out;
}

START_TEST(test_repo__resolve_revisions)
{
	struct repo *r = open_fixture("basic");
	char sha[41];

	ck_assert_int_eq(repo_resolve(sha, r, "HEAD"), 0);
	ck_assert_str_eq(sha, C3);
	ck_assert_int_eq(repo_resolve(sha, r, "HEAD~1"), 0);
	ck_assert_str_eq(sha, C2);
	ck_assert_int_eq(repo_resolve(sha, r, "da7a71c"), 0);
	ck_assert_str_eq(sha, C1);
	ck_assert_int_eq(repo_resolve(sha, r, "c3"), 0);
	ck_assert_str_eq(sha, C3);
	ck_assert_int_eq(repo_resolve(sha, r, "no-such-rev"), IL_ENOTFOUND);
	ck_assert_int_eq(repo_resolve(sha, r, "HEAD~9"), IL_ENOTFOUND);
	ck_assert_int_eq(repo_open(&r, a, fixtures), IL_ENOTFOUND);
	ck_assert_int_eq(repo_open(&r, a, "/nonexistent/x"), IL_ENOTFOUND);
}
END_TEST

START_TEST(test_repo__golden_plans)
{
	struct repo *r = open_fixture("basic");
	const char *out;

	out = plan_json(r, C2, C3, 1);
	assert_golden("basic_c2_c3.json", out, strlen(out));
	out = plan_json(r, C1, C2, 0);
	assert_golden("basic_c1_c2.json", out, strlen(out));
	ck_assert_ptr_nonnull(strstr(out, "\"steps\": [],"));
	out = plan_json(r, C3, C3, 0);
	ck_assert_ptr_nonnull(strstr(out, "\"steps\": [],"));
	ck_assert_ptr_nonnull(strstr(out, "\"total_steps\": 0,"));
}
END_TEST

START_TEST(test_repo__moved_files_change_nothing)
{
	struct repo *r = open_fixture("basic");
	struct project *c1 = load(r, C1), *c2 = load(r, C2);
	int i = project_find(c1, "analytics.revenue");
	int j = project_find(c2, "analytics.revenue");

	ck_assert_str_eq(c1->models[i]->path, "models/analytics/revenue.sql");
	ck_assert_str_eq(c2->models[j]->path, "models/marts/revenue.sql");
	ck_assert_str_eq(c1->models[i]->content_hash,
			 c2->models[j]->content_hash);
	ck_assert_str_eq(c1->models_dir, "models");
}
END_TEST

START_TEST(test_repo__broken_reports_everything)
{
	struct repo *r = open_fixture("broken");
	char sha[41];
	struct project *p;

	ck_assert_int_eq(repo_resolve(sha, r, "HEAD"), 0);
	p = load(r, sha);
	ck_assert_uint_eq(p->diags.n_errors, 9);
	ck_assert_str_eq(t_diags(a, &p->diags),
		"models/bad_kind.sql:2: error: unknown kind 'SOMETIMES': "
		"expected FULL_REFRESH, INCREMENTAL_BY_TIME_RANGE, APPEND_ONLY "
		"or MERGE_BY_KEY\n"
		"models/cycle_a.sql:3: error: dependency cycle: cyc.a \xe2\x86\x92"
		" cyc.b \xe2\x86\x92 cyc.c \xe2\x86\x92 cyc.a\n"
		"models/cycle_a.sql:3: warning: SELECT * makes the model's "
		"columns depend on its upstream; list the columns\n"
		"models/ddl.sql:3: error: body must be one SELECT or WITH query, "
		"found 'INSERT'\n"
		"models/dup_2.sql:1: error: duplicate model name 'good.orders': "
		"also defined in models/dup_1.sql (line 1)\n"
		"models/incr.sql:2: error: kind INCREMENTAL_BY_TIME_RANGE "
		"requires a time_column header\n"
		"models/incr.sql:3: warning: CROSS JOIN multiplies rows; check "
		"it is intended\n"
		"models/latin1.sql:3: error: file is not valid UTF-8 (byte 53)\n"
		"models/no_name.sql:1: error: missing required header 'name'\n"
		"models/two_statements.sql:4: error: only one statement is "
		"allowed: a second statement starts at 'DROP'\n"
		"models/unknown_ref.sql:3: error: unresolved ref 'good.ordrs': "
		"no model has that name (closest: 'good.orders')\n");
}
END_TEST

START_TEST(test_repo__fallback_dir_and_read_file)
{
	struct repo *r = open_fixture("fallback");
	const char *text;
	char sha[41];
	size_t len;
	struct project *p;

	ck_assert_int_eq(repo_resolve(sha, r, "HEAD"), 0);
	p = load(r, sha);
	ck_assert_str_eq(p->models_dir, "sql/models");
	ck_assert_uint_eq(p->n_models, 1);
	ck_assert_str_eq(p->models[0]->path, "sql/models/a.sql");
	ck_assert_int_eq(repo_read_file(&text, &len, a, r, sha,
					"sql/models/a.sql"), 0);
	ck_assert_str_eq(text, "-- name: s.a\n-- kind: FULL_REFRESH\n"
			 "SELECT 1 AS x\n");
	ck_assert_int_eq(repo_read_file(&text, &len, a, r, sha, "nope.sql"),
			 IL_ENOTFOUND);
	ck_assert_int_eq(repo_load_project(&p, a, r, C1, NULL), IL_ENOTFOUND);
}
END_TEST

/* Runs the CLI; returns its exit status, stdout into *out. */
static int run_cli(const char *args, const char **out)
{
	char cmd[2048], buf[4096];
	struct strbuf sb;
	size_t n;
	FILE *f;
	int st;

	/* its parse cache stays with the fixtures */
	snprintf(cmd, sizeof(cmd), "cd %s && XDG_CACHE_HOME=%s/xdg0 "
		 "%s/ironlayer --config /dev/null %s 2>/dev/null", fixtures,
		 fixtures, IL_TOP_BUILDDIR, args);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	strbuf_init(&sb, a, 1 << 20);
	strbuf_adds(&sb, "");
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&sb, buf, n);
	st = pclose(f);
	*out = strbuf_cstr(&sb);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(test_repo__cli_plan_matches_golden)
{
	const char *args = "plan basic c2 HEAD --as-of 2025-06-15 --state "
		GOLDEN "state.json";
	const char *one, *two, *want;
	size_t len;

	ck_assert_int_eq(run_cli(args, &one), 0);
	ck_assert_int_eq(run_cli(args, &two), 0);
	want = t_read(a, GOLDEN "basic_c2_c3.json", &len);
	ck_assert_str_eq(one, want);
	ck_assert_str_eq(two, want);
	ck_assert_int_eq(run_cli("plan broken HEAD HEAD --as-of 2025-06-15",
				 &one), 1);
	ck_assert_str_eq(one, "");
	ck_assert_int_eq(run_cli("plan basic c1 nope", &one), 1);
	ck_assert_int_eq(run_cli("plan basic c1", &one), 2);
	ck_assert_int_eq(run_cli("check broken", &one), 1);
	ck_assert_str_eq(one, "9 models, 9 errors, 2 warnings\n");
	ck_assert_int_eq(run_cli("check basic --at c1", &one), 0);
	ck_assert_int_eq(run_cli("models fallback", &one), 0);
	ck_assert_str_eq(one, "s.a                                      "
			 "FULL_REFRESH               TABLE            "
			 "sql/models/a.sql\n");
	ck_assert_int_eq(run_cli("models fallback --json", &one), 0);
	/* the hash recomputed by hand from docs/model-format.md's formula */
	ck_assert_str_eq(one, "[\n  {\"content_hash\": \"9cc64e26e99cdf0e25c2e4"
			 "34cd75be202ff8ecd0818bcb1799aa281d6ac42ef6\", \"kind\": "
			 "\"FULL_REFRESH\", \"materialization\": \"TABLE\", "
			 "\"name\": \"s.a\", \"path\": \"sql/models/a.sql\"}\n]\n");
	ck_assert_int_eq(run_cli("lineage basic events_clean --at c1", &one), 0);
	ck_assert_str_eq(one, "staging.events_clean\nupstream:\n  1 raw.events\n"
			 "downstream:\n  1 analytics.orders_daily\n"
			 "  2 analytics.revenue\n");
}
END_TEST

/* The CLI with env before it (VAR=value ...); stdout and stderr. */
static int run_cli_env(const char *env, const char *args, const char **out,
		       const char **err)
{
	char cmd[4096], buf[4096], errfile[512];
	struct strbuf sb;
	size_t n;
	FILE *f;
	int st;

	snprintf(errfile, sizeof(errfile), "%s/cli-stderr.txt", fixtures);
	snprintf(cmd, sizeof(cmd), "cd %s && env %s %s/ironlayer --config "
		 "/dev/null %s 2>%s", fixtures, env, IL_TOP_BUILDDIR, args,
		 errfile);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	strbuf_init(&sb, a, 1 << 20);
	strbuf_adds(&sb, "");
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&sb, buf, n);
	st = pclose(f);
	*out = strbuf_cstr(&sb);
	*err = t_read(a, errfile, NULL);
	ck_assert_ptr_nonnull(*err);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(test_repo__byte_order_marks_parse)
{
	const char *out, *err;

	ck_assert_int_eq(run_cli_env("", "check bom --no-cache", &out, &err), 0);
	ck_assert_str_eq(out, "2 models, 0 errors, 0 warnings\n");
	ck_assert_int_eq(run_cli_env("", "plan bom c1 c2 --as-of 2025-06-15 "
				     "--no-cache", &out, &err), 0);
	ck_assert_ptr_nonnull(strstr(out, "\"steps\": [],"));
	ck_assert_ptr_nonnull(strstr(out, "\"cosmetic_changes_skipped\": [\n"
				     "      \"win.orders\"\n    ],"));
}
END_TEST

/*
 * The CLI checks the blobs it parses itself (repo_check_blobs_fast): a
 * loose object overwritten in place with a valid object of other content
 * must still be a read error, never a plan of that content.
 */
START_TEST(test_repo__cli_refuses_an_overwritten_blob)
{
	char cmd[4096];
	const char *out, *err;

	snprintf(cmd, sizeof(cmd),
		 "cd %s && rm -rf tamper scratch && cp -r bom tamper && "
		 "git init -q scratch && "
		 "bad=$(printf -- '-- name: win.orders\\n-- kind: FULL_REFRESH\\n"
		 "SELECT 666 AS id\\n' | git -C scratch hash-object -w --stdin) && "
		 "id=$(git -C tamper rev-parse c2:models/orders.sql) && "
		 "obj=tamper/.git/objects/$(echo $id | cut -c1-2)/$(echo $id | cut -c3-) && "
		 "test -f $obj && chmod u+w $obj && "
		 "cat scratch/.git/objects/$(echo $bad | cut -c1-2)/$(echo $bad | cut -c3-) > $obj",
		 fixtures);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_ne(run_cli_env("", "plan tamper c1 c2 --as-of 2025-06-15 "
				     "--no-cache", &out, &err), 0);
	ck_assert_msg(strstr(err, "cannot read") && strstr(err, "hash mismatch"),
		      "%s", err);
	ck_assert_ptr_null(strstr(out, "666"));
	/* with a cache directory too (a cold cache: the blob is read) */
	ck_assert_int_ne(run_cli_env(arena_printf(a, "XDG_CACHE_HOME=%s/xdg3",
						  fixtures),
				     "plan tamper c1 c2 --as-of 2025-06-15",
				     &out, &err), 0);
	ck_assert_msg(strstr(err, "hash mismatch"), "%s", err);
	ck_assert_ptr_null(strstr(out, "666"));
}
END_TEST

/* The golden plan through repo_load_projects with store s (or none). */
static const char *plan_through(struct parse_store *s, int use_store,
				struct parse_cache_stats *st)
{
	struct arena *ra = arena_new(0);
	struct plan_inputs in;
	struct project *base, *target;
	struct plan *p;
	struct repo *r;
	const char *err, *out, *state;
	size_t len;
	int failed;

	ck_assert_int_eq(repo_open(&r, ra, arena_printf(a, "%s/basic",
							 fixtures)), 0);
	if (use_store)
		repo_set_store(r, s);
	else
		repo_set_store(r, NULL);
	plan_inputs_init(&in);
	in.base = C2;
	in.target = C3;
	in.as_of = "2025-06-15";
	state = t_read(a, GOLDEN "state.json", &len);
	ck_assert_int_eq(plan_state_parse(&in, a, state, len, &err), 0);
	ck_assert_int_eq(repo_load_projects(&base, &target, ra, r, C2, C3,
					    NULL, &failed), 0);
	ck_assert_int_eq(plan_build(&p, a, base, target, &in, &err), 0);
	ck_assert_int_eq(plan_to_json(&out, &len, a, p), 0);
	out = arena_strdup(a, out);
	repo_cache_stats(r, st);
	arena_free(ra);
	return out;
}

START_TEST(test_repo__plan_bytes_with_and_without_the_store)
{
	struct parse_store *s = parse_store_new(1 << 26);
	struct parse_cache_stats cold, warm, none;
	const char *want = t_read(a, GOLDEN "basic_c2_c3.json", NULL);

	ck_assert_str_eq(plan_through(s, 1, &cold), want);
	ck_assert_str_eq(plan_through(s, 1, &warm), want);
	ck_assert_str_eq(plan_through(s, 0, &none), want);
	ck_assert_uint_gt(cold.parsed, 5);
	ck_assert_uint_eq(cold.from_store, 0);
	ck_assert_uint_eq(warm.parsed, 0);
	ck_assert_uint_eq(warm.from_store, cold.parsed);
	ck_assert_uint_eq(none.parsed, cold.parsed);
	parse_store_free(s);
}
END_TEST

#define PLAN_ARGS "plan basic c2 HEAD --as-of 2025-06-15 --cache-stats " \
	"--state " GOLDEN "state.json"

/* One cached plan run: the golden plan, and what the cache did. */
static const char *cached_plan(const char *env)
{
	const char *out, *err, *want = t_read(a, GOLDEN "basic_c2_c3.json",
					      NULL);

	ck_assert_int_eq(run_cli_env(env, PLAN_ARGS, &out, &err), 0);
	ck_assert_str_eq(out, want);
	return err;
}

/* The cache file a run named in its --cache-stats line. */
static const char *cache_path(const char *err)
{
	const char *p = strstr(err, ": cache ");
	const char *end = p ? strstr(p + 8, ".parse") : NULL;

	ck_assert_ptr_nonnull(end);
	return arena_strndup(a, p + 8, (size_t)(end + 6 - (p + 8)));
}

static void write_bytes(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

static void put_u64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* Where the data of the image's first model file entry starts (blob ids
 * are 20-byte keys; a models tree's listing has another key). */
static size_t first_blob_entry(const unsigned char *u, size_t len)
{
	size_t pos = STORE_HEADER_BYTES, dlen;

	while (pos + 13 < len) {
		size_t klen = u[pos];

		dlen = (size_t)u[pos + 1 + klen + 8] |
		       (size_t)u[pos + 1 + klen + 9] << 8 |
		       (size_t)u[pos + 1 + klen + 10] << 16;
		if (klen == 20)
			return pos + 1 + klen + 12;
		pos += 1 + klen + 12 + dlen;
	}
	ck_abort_msg("no model file entry in the cache");
	return 0;
}

/* Damages the cache file by how (0 truncated, 1 a flipped byte, 2 another
 * version, 3 a bad entry, 4 empty), then a run must ignore it, give the
 * golden plan and write a good file again. */
static void damage_and_rebuild(const char *env, const char *path, int how)
{
	size_t len;
	char *img = (char *)t_read(a, path, &len);
	unsigned char *u = (unsigned char *)img;
	const char *err;

	ck_assert_uint_gt(len, STORE_HEADER_BYTES + 100);
	if (how == 0) {
		len /= 2;                              /* truncated */
	} else if (how == 4) {
		len = 0;                               /* empty (not mappable) */
	} else if (how == 1) {
		u[len / 2] ^= 0x40;                    /* a flipped byte */
	} else {
		if (how == 2)
			u[12]++;                       /* another version */
		else                                   /* a bad parse entry */
			u[first_blob_entry(u, len)] = 7;
		put_u64(u + 40, parse_store_checksum(u + STORE_HEADER_BYTES,
						     len - STORE_HEADER_BYTES));
		put_u64(u + 48, parse_store_checksum(u, 48));
	}
	write_bytes(path, img, len);
	err = cached_plan(env);
	if (how == 3)
		ck_assert_msg(strstr(err, " 1 parsed, 1 bad entries; saved"),
			      "%s", err);
	else
		ck_assert_msg(strstr(err, "unreadable, rebuilt") &&
			      strstr(err, "; saved"), "%s", err);
	err = cached_plan(env);
	ck_assert_msg(strstr(err, " 0 parsed, 0 bad entries; unchanged"), "%s",
		      err);
}

START_TEST(test_repo__cli_cache_damaged_or_not)
{
	const char *env = arena_printf(a, "XDG_CACHE_HOME=%s/xdg1", fixtures);
	const char *err, *out, *path;
	int how;

	err = cached_plan(env);
	ck_assert_msg(strstr(err, ": 0 files from the cache, ") &&
		      strstr(err, "; saved"), "%s", err);
	err = cached_plan(env);
	ck_assert_msg(strstr(err, " 0 parsed, 0 bad entries; unchanged"), "%s",
		      err);
	path = cache_path(err);
	ck_assert_ptr_nonnull(strstr(path, "/xdg1/ironlayer/"));
	for (how = 0; how < 5; how++)
		damage_and_rebuild(env, path, how);
	/* --no-cache reads and writes nothing */
	ck_assert_int_eq(run_cli_env(env, "plan basic c2 HEAD --as-of 2025-06-15 "
				     "--no-cache --state " GOLDEN "state.json",
				     &out, &err), 0);
	ck_assert_str_eq(out, t_read(a, GOLDEN "basic_c2_c3.json", NULL));
	ck_assert_str_eq(err, "");
}
END_TEST

/* Six runs at once on one empty cache: all succeed with the same plan,
 * and the file they leave is whole. */
START_TEST(test_repo__cli_runs_at_once_share_a_cache)
{
	char cmd[4096];
	const char *want = t_read(a, GOLDEN "basic_c2_c3.json", NULL), *err;
	const char *env = arena_printf(a, "XDG_CACHE_HOME=%s/xdg2", fixtures);
	int i;

	snprintf(cmd, sizeof(cmd), "cd %s && for i in 1 2 3 4 5 6; do "
		 "(env %s %s/ironlayer --config /dev/null " PLAN_ARGS
		 " >out.$i 2>/dev/null; echo $? >status.$i) & done; wait",
		 fixtures, env, IL_TOP_BUILDDIR);
	ck_assert_int_eq(system(cmd), 0);
	for (i = 1; i <= 6; i++) {
		ck_assert_str_eq(t_read(a, arena_printf(a, "%s/status.%d",
							fixtures, i), NULL),
				 "0\n");
		ck_assert_str_eq(t_read(a, arena_printf(a, "%s/out.%d",
							fixtures, i), NULL),
				 want);
	}
	err = cached_plan(env);
	ck_assert_msg(strstr(err, " 0 parsed, 0 bad entries; unchanged"), "%s",
		      err);
}
END_TEST

/* repo_path_resolve of dir/rel for tenant: 0 with out == dir/want, or the error. */
static int resolve_in(const struct il_config *cfg, const char *tenant, const char *dir,
		      const char *rel, const char *want)
{
	char out[PATH_MAX];
	int rc = repo_path_resolve(out, cfg, tenant, arena_printf(a, "%s/%s", dir, rel));

	if (rc == 0)
		ck_assert_str_eq(out, arena_printf(a, "%s/%s", dir, want));
	else
		ck_assert_str_eq(out, "");
	return rc;
}

START_TEST(test_repo__paths_stay_in_the_tenants_roots)
{
	char dir[] = "/tmp/il-roots-XXXXXX", cmd[1024], *real, path[PATH_MAX];
	struct il_config cfg;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	real = realpath(dir, NULL);
	snprintf(cmd, sizeof(cmd), "cd %s && mkdir -p r/t1/x r/t12/y r/t2/z shared/s shared2/q && "
		 "ln -s ../t2/z r/t1/link && ln -s ../t2/missing r/t1/dangling && "
		 "ln -s ../r/t1/x shared/into", real);
	ck_assert_int_eq(system(cmd), 0);
	memset(&cfg, 0, sizeof(cfg));
	cfg.repo_root[0] = arena_printf(a, "%s/r", real);
	cfg.n_repo_roots = 1;
	cfg.shared_repo_root[0] = arena_printf(a, "%s/shared", real);
	cfg.n_shared_repo_roots = 1;

	ck_assert_int_eq(resolve_in(&cfg, "t1", real, "r/t1/x", "r/t1/x"), 0);
	ck_assert_int_eq(resolve_in(&cfg, "t1", real, "r/t1/x/../x/", "r/t1/x"), 0);
	ck_assert_int_eq(resolve_in(&cfg, "t1", real, "shared/s", "shared/s"), 0);
	ck_assert_int_eq(resolve_in(&cfg, "t1", real, "shared", "shared"), 0);
	ck_assert_int_eq(resolve_in(&cfg, "t1", real, "shared/into", "r/t1/x"), 0);
	/* another tenant's, one whose id starts with ours, and escapes: all "outside",
	 * whether they exist or not */
	ck_assert_int_eq(resolve_in(&cfg, "t1", real, "r/t2/z", NULL), IL_EINVALID);
	ck_assert_int_eq(resolve_in(&cfg, "t1", real, "r/t2/missing", NULL), IL_EINVALID);
	ck_assert_int_eq(resolve_in(&cfg, "t1", real, "r/t12/y", NULL), IL_EINVALID);
	ck_assert_int_eq(resolve_in(&cfg, "t1", real, "r/t1/../t2/z", NULL), IL_EINVALID);
	ck_assert_int_eq(resolve_in(&cfg, "t1", real, "r/t1/../t2/missing", NULL), IL_EINVALID);
	ck_assert_int_eq(resolve_in(&cfg, "t1", real, "r/t1/link", NULL), IL_EINVALID);
	ck_assert_int_eq(resolve_in(&cfg, "t1", real, "r/t1/link/missing", NULL), IL_EINVALID);
	ck_assert_int_eq(resolve_in(&cfg, "t1", real, "r/t1/dangling", NULL), IL_EINVALID);
	ck_assert_int_eq(resolve_in(&cfg, "t1", real, "r/t1/dangling/x", NULL), IL_EINVALID);
	ck_assert_int_eq(resolve_in(&cfg, "t2", real, "shared/into", NULL), IL_EINVALID);
	ck_assert_int_eq(resolve_in(&cfg, "t1", real, "shared2/q", NULL), IL_EINVALID);
	ck_assert_int_eq(resolve_in(&cfg, "t1", real, "shared2/missing", NULL), IL_EINVALID);
	ck_assert_int_eq(resolve_in(&cfg, "t1", real, "r", NULL), IL_EINVALID);
	ck_assert_int_eq(resolve_in(&cfg, "t1", real, "r/missing", NULL), IL_EINVALID);
	ck_assert_int_eq(repo_path_resolve(path, &cfg, "t1", "r/t1/x"), IL_EINVALID);
	/* missing inside the tenant's own roots: "not found", even before its directory exists */
	ck_assert_int_eq(resolve_in(&cfg, "t1", real, "r/t1/missing", NULL), IL_ENOTFOUND);
	ck_assert_int_eq(resolve_in(&cfg, "t1", real, "r/t1/x/missing/deeper", NULL), IL_ENOTFOUND);
	ck_assert_int_eq(resolve_in(&cfg, "t3", real, "r/t3/x", NULL), IL_ENOTFOUND);
	ck_assert_int_eq(resolve_in(&cfg, "t1", real, "shared/missing", NULL), IL_ENOTFOUND);
	/* a tenant id is one plain name */
	ck_assert_int_eq(resolve_in(&cfg, "..", real, "r/t1/x", NULL), IL_EINVALID);
	ck_assert_int_eq(resolve_in(&cfg, "t1/../t2", real, "r/t2/z", NULL), IL_EINVALID);
	ck_assert_int_eq(resolve_in(&cfg, "", real, "r/t1/x", NULL), IL_EINVALID);
	/* a root of "/" */
	cfg.repo_root[0] = "/";
	cfg.n_shared_repo_roots = 0;
	ck_assert_int_eq(resolve_in(&cfg, "t1", real, "r/t1/x", NULL), IL_EINVALID);

	snprintf(cmd, sizeof(cmd), "rm -rf %s", real);
	ck_assert_int_eq(system(cmd), 0);
	free(real);
}
END_TEST

Suite *suite_repo(void)
{
	Suite *s = suite_create("repo");
	TCase *tc = tcase_create("repo");

	tcase_add_unchecked_fixture(tc, make_fixtures, remove_fixtures);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_repo__resolve_revisions);
	tcase_add_test(tc, test_repo__golden_plans);
	tcase_add_test(tc, test_repo__moved_files_change_nothing);
	tcase_add_test(tc, test_repo__broken_reports_everything);
	tcase_add_test(tc, test_repo__fallback_dir_and_read_file);
	tcase_add_test(tc, test_repo__cli_plan_matches_golden);
	tcase_add_test(tc, test_repo__byte_order_marks_parse);
	tcase_add_test(tc, test_repo__plan_bytes_with_and_without_the_store);
	tcase_add_test(tc, test_repo__cli_cache_damaged_or_not);
	tcase_add_test(tc, test_repo__cli_runs_at_once_share_a_cache);
	tcase_add_test(tc, test_repo__cli_refuses_an_overwritten_blob);
	tcase_add_test(tc, test_repo__paths_stay_in_the_tenants_roots);
	suite_add_tcase(s, tc);
	return s;
}
