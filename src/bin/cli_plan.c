/* cli_plan.c: ironlayer plan, models, lineage and check */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bin/cli.h"
#include "core/plan.h"
#include "core/project.h"
#include "repo/repo.h"
#include "repo/store.h"
#include "util/crypto.h"
#include "util/arena.h"
#include "util/config.h"
#include "util/error.h"
#include "util/limits.h"
#include "util/parse.h"
#include "util/strbuf.h"

/* The parse cache file: one per repository in the cache directory, at
 * most this big; the directory keeps the newest files up to the total. */
#define CACHE_FILE_BYTES ((size_t)256 << 20)
#define CACHE_DIR_BYTES ((size_t)1 << 30)

/* What every subcommand here shares: its arena, config and repository. */
struct cli {
	const char *prog;         /* "ironlayer plan" etc., for messages */
	struct arena *a;
	struct il_config cfg;
	struct repo *repo;
	struct parse_store *store;    /* the cache file's entries, or NULL */
	pthread_t saver;              /* writes the cache file meanwhile */
	int saving;
	int saved;
	char cache_dir[4096];
	char cache_path[4200];
	int cache_stats;              /* --cache-stats: say what it did */
};

/* Flags every repository command takes. */
struct cache_flags {
	int no_cache;
	int stats;
};

/* --no-cache or --cache-stats at argv[i]: 1 when it was one. */
static int take_cache_flag(struct cache_flags *f, const char *arg)
{
	if (strcmp(arg, "--no-cache") == 0)
		f->no_cache = 1;
	else if (strcmp(arg, "--cache-stats") == 0)
		f->stats = 1;
	else
		return 0;
	return 1;
}

static int usage_error(const char *prog, const char *usage)
{
	fprintf(stderr, "usage: %s %s\n", prog, usage);
	return 2;
}

/* --name VALUE at argv[*i]: 1 (value taken), 0 (not this option), -1. */
static int take_opt(int *i, int argc, char **argv, const char *name,
		    const char **val)
{
	if (strcmp(argv[*i], name) != 0)
		return 0;
	if (*i + 1 >= argc)
		return -1;
	*val = argv[++*i];
	return 1;
}

/* The cache file of this repository: a hash of its path (real). */
static int cache_file_name(struct cli *c, const char *repo_path)
{
	char id[IL_SHA256_HEX_LEN + 1], real[4096];
	int n;

	if (realpath(repo_path, real) == NULL)
		return -1;
	crypto_sha256_hex(real, strlen(real), id);
	n = snprintf(c->cache_path, sizeof(c->cache_path), "%s/%.32s.parse",
		     c->cache_dir, id);
	return n > 0 && (size_t)n < sizeof(c->cache_path) ? 0 : -1;
}

/*
 * Files parsed by an earlier run come from the cache file; a file that is
 * missing, damaged or of another version is ignored (and rewritten at the
 * end). Without a cache directory the run just parses everything. This
 * runs while another thread sets libgit2 up (20 ms of reading the system's
 * CA bundle), before the repository is opened.
 */
static void cache_read(struct cli *c, const struct cache_flags *f,
		       const char *repo_path)
{
	int rc;

	c->cache_stats = f->stats;
	if (f->no_cache || cache_dir_open(c->cache_dir,
					  sizeof(c->cache_dir)) < 0 ||
	    cache_file_name(c, repo_path) < 0 ||
	    (c->store = parse_store_new(CACHE_FILE_BYTES)) == NULL)
		return;
	parse_store_keep_all(c->store);    /* it lives until the process ends */
	rc = parse_store_read_file(c->store, c->cache_path);
	if (rc == IL_EINVALID && c->cache_stats)
		fprintf(stderr, "%s: cache %s: unreadable, rebuilt\n", c->prog,
			c->cache_path);
}

static void *set_up_git(void *arg)
{
	(void)arg;
	repo_global_init();
	return NULL;
}

static void *save_cache(void *arg)
{
	struct cli *c = arg;

	c->saved = parse_store_write_file(c->store, c->cache_path) == 0;
	cache_dir_evict(c->cache_dir, CACHE_DIR_BYTES);
	return NULL;
}

/*
 * Once the models are loaded nothing changes the store any more: when
 * this run parsed anything new, the cache file is written on another
 * thread while this one makes the plan (cache_close waits for it).
 */
static void cache_save_soon(struct cli *c)
{
	struct parse_store_info info;

	if (c->store == NULL)
		return;
	parse_store_get_info(c->store, &info);
	if (info.changed &&
	    pthread_create(&c->saver, NULL, save_cache, c) == 0)
		c->saving = 1;
}

/* Saves the cache file when this run parsed anything new. */
static void cache_close(struct cli *c)
{
	struct parse_cache_stats st;
	struct parse_store_info info;

	if (c->store == NULL)
		return;
	parse_store_get_info(c->store, &info);
	if (c->saving)
		pthread_join(c->saver, NULL);
	else if (info.changed)
		save_cache(c);
	if (c->cache_stats) {
		repo_cache_stats(c->repo, &st);
		fprintf(stderr, "%s: cache %s: %zu files from the cache, %zu "
			"parsed, %zu bad entries; %s\n", c->prog, c->cache_path,
			st.from_store, st.parsed, st.bad_entries, !info.changed ?
			"unchanged" : c->saved ? "saved" : "not saved");
	}
}

static int cli_start(struct cli *c, const char *prog, const char *repo_path,
		     const struct cache_flags *f)
{
	pthread_t git_thread;
	char err[256];
	int rc, git_started;

	memset(c, 0, sizeof(*c));
	c->prog = prog;
	/* 4 MiB blocks: in 2 MiB pages (util/arena.c) */
	if ((c->a = arena_new((size_t)4 << 20)) == NULL) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return 1;
	}
	if (config_load(&c->cfg, c->a, cli_config_path, CONFIG_NEED_NOTHING,
			err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return 1;
	}
	/*
	 * joined, not detached: a thread still ending at exit leaves what it
	 * frees on its way out (OpenSSL's per-thread state) to look leaked
	 */
	git_started = pthread_create(&git_thread, NULL, set_up_git, NULL) == 0;
	cache_read(c, f, repo_path);
	if (git_started)
		pthread_join(git_thread, NULL);
	rc = repo_open(&c->repo, c->a, repo_path);
	if (rc == IL_ENOTFOUND) {
		fprintf(stderr, "%s: '%s' is not a git repository\n", prog,
			repo_path);
		return 1;
	}
	if (rc < 0) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return 1;
	}
	repo_set_store(c->repo, c->store);
	return 0;
}

static void cli_end(struct cli *c)
{
	if (c->repo)
		cache_close(c);
	arena_free(c->a);
	parse_store_free(c->store);
}

static void print_diags(const struct project *p, int warnings)
{
	size_t i;

	for (i = 0; i < p->diags.n; i++) {
		const struct diag *d = &p->diags.items[i];
		const char *sev = d->severity == DIAG_ERROR ? "error" :
			"warning";

		if (d->severity == DIAG_WARNING && !warnings)
			continue;
		if (d->line)
			fprintf(stderr, "%s:%u: %s: %s\n", d->file, d->line, sev,
				d->message);
		else
			fprintf(stderr, "%s: %s: %s\n", *d->file ? d->file :
				"(project)", sev, d->message);
	}
}

/* Resolves rev to a commit id; the message goes to stderr. */
static int resolve_rev(char sha[REPO_OID_HEX_LEN + 1], struct cli *c,
		       const char *rev)
{
	int rc = repo_resolve(sha, c->repo, rev);

	if (rc == IL_ENOTFOUND)
		fprintf(stderr, "%s: unknown revision '%s'\n", c->prog, rev);
	else if (rc < 0)
		fprintf(stderr, "%s: '%s' does not name one commit\n", c->prog,
			rev);
	return rc;
}

static void load_failed(struct cli *c, int rc, const char *rev)
{
	if (rc == IL_ETOOBIG)
		fprintf(stderr, "%s: more than %d models at %s\n", c->prog,
			IL_MAX_MODELS, rev);
	else if (rc == IL_ERR)
		fprintf(stderr, "%s: cannot read %s: %s\n", c->prog, rev,
			repo_last_error(c->repo));
	else
		fprintf(stderr, "%s: out of memory\n", c->prog);
}

/* Resolves rev and loads the models at it; messages go to stderr. */
static int load_at(struct project **out, char sha[REPO_OID_HEX_LEN + 1],
		   struct cli *c, const char *rev)
{
	int rc = resolve_rev(sha, c, rev);

	if (rc < 0)
		return rc;
	rc = repo_load_project(out, c->a, c->repo, sha, c->cfg.models_dir);
	if (rc < 0)
		load_failed(c, rc, rev);
	return rc;
}

/* Reads a whole file (up to max bytes) into the arena. */
static int read_file(const char **out, size_t *len, struct arena *a,
		     const char *path, size_t max)
{
	struct strbuf sb;
	char buf[65536];
	size_t n;
	FILE *f = fopen(path, "rb");
	int rc = 0;

	if (f == NULL)
		return IL_ENOTFOUND;
	strbuf_init(&sb, a, max);
	strbuf_adds(&sb, "");
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&sb, buf, n);
	if (ferror(f))
		rc = IL_ERR;
	else if (strbuf_cstr(&sb) == NULL)
		rc = IL_ETOOBIG;
	fclose(f);
	*out = sb.buf;
	*len = sb.len;
	return rc;
}

static int write_output(const char *path, const char *data, size_t len)
{
	FILE *f = path ? fopen(path, "wb") : stdout;
	int bad;

	if (f == NULL)
		return -1;
	bad = fwrite(data, 1, len, f) != len;
	if (path)
		bad |= fclose(f) != 0;
	else
		bad |= fflush(f) != 0;
	return bad ? -1 : 0;
}

static const char plan_usage[] = "REPO BASE TARGET [--as-of YYYY-MM-DD] "
	"[--env NAME] [--state FILE] [--out FILE] [--no-cache] [--cache-stats]";

struct plan_args {
	const char *pos[3];
	const char *as_of;
	const char *env;
	const char *state;
	const char *out;
	struct cache_flags cache;
};

/* Both commits of a plan, loaded together (each blob parsed once). */
static int load_both(struct project **base, struct project **target,
		     char base_sha[REPO_OID_HEX_LEN + 1],
		     char target_sha[REPO_OID_HEX_LEN + 1], struct cli *c,
		     const struct plan_args *pa)
{
	int rc, failed;

	if (resolve_rev(base_sha, c, pa->pos[1]) < 0 ||
	    resolve_rev(target_sha, c, pa->pos[2]) < 0)
		return -1;
	rc = repo_load_projects(base, target, c->a, c->repo, base_sha,
				target_sha, c->cfg.models_dir, &failed);
	if (rc < 0)
		load_failed(c, rc, pa->pos[1 + failed]);
	return rc;
}

static int parse_plan_args(struct plan_args *pa, int argc, char **argv)
{
	int i, n = 0, r;

	memset(pa, 0, sizeof(*pa));
	for (i = 1; i < argc; i++) {
		if ((r = take_opt(&i, argc, argv, "--as-of", &pa->as_of)) ||
		    (r = take_opt(&i, argc, argv, "--env", &pa->env)) ||
		    (r = take_opt(&i, argc, argv, "--state", &pa->state)) ||
		    (r = take_opt(&i, argc, argv, "--out", &pa->out))) {
			if (r < 0)
				return -1;
			continue;
		}
		if (take_cache_flag(&pa->cache, argv[i]))
			continue;
		if (argv[i][0] == '-' || n == 3)
			return -1;
		pa->pos[n++] = argv[i];
	}
	return n == 3 ? 0 : -1;
}

static void today(char out[IL_DATE_LEN + 1])
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(out, IL_DATE_LEN + 1, "%Y-%m-%d", &tm);
}

/* Config, flags and the --state file into in. */
static int plan_inputs_fill(struct plan_inputs *in, struct cli *c,
			    const struct plan_args *pa, char *as_of_buf)
{
	const char *text, *err;
	size_t len;
	int rc;

	plan_inputs_init(in);
	in->default_lookback_days = c->cfg.default_lookback_days;
	in->cost_per_compute_second = c->cfg.cost_per_compute_second;
	if (pa->env)
		in->environment = pa->env;
	if (pa->as_of == NULL)
		today(as_of_buf);
	in->as_of = pa->as_of ? pa->as_of : as_of_buf;
	if (pa->state == NULL)
		return 0;
	rc = read_file(&text, &len, c->a, pa->state, IL_MAX_STATE_FILE);
	if (rc < 0) {
		fprintf(stderr, "%s: cannot read state file '%s'%s\n", c->prog,
			pa->state, rc == IL_ETOOBIG ? ": too large" : "");
		return rc;
	}
	rc = plan_state_parse(in, c->a, text, len, &err);
	if (rc < 0)
		fprintf(stderr, "%s: %s: %s\n", c->prog, pa->state,
			err ? err : "out of memory");
	return rc;
}

static int run_plan(struct cli *c, const struct plan_args *pa)
{
	char base_sha[REPO_OID_HEX_LEN + 1], target_sha[REPO_OID_HEX_LEN + 1];
	char as_of[IL_DATE_LEN + 1];
	struct project *base, *target;
	struct plan_inputs in;
	struct plan *plan;
	const char *json, *err;
	size_t len;

	if (load_both(&base, &target, base_sha, target_sha, c, pa) < 0)
		return 1;
	cache_save_soon(c);
	if (target->diags.n_errors > 0) {
		print_diags(target, 0);
		fprintf(stderr, "%s: %zu problems at %s; no plan written\n",
			c->prog, target->diags.n_errors, pa->pos[2]);
		return 1;
	}
	if (base->diags.n_errors > 0)
		fprintf(stderr, "%s: note: %zu problems at %s are ignored (see "
			"ironlayer check --at %s)\n", c->prog,
			base->diags.n_errors, pa->pos[1], pa->pos[1]);
	if (plan_inputs_fill(&in, c, pa, as_of) < 0)
		return 1;
	in.base = base_sha;
	in.target = target_sha;
	if (plan_build(&plan, c->a, base, target, &in, &err) < 0 ||
	    plan_to_json(&json, &len, c->a, plan) < 0) {
		fprintf(stderr, "%s: %s\n", c->prog, err ? err : "plan too large");
		return 1;
	}
	if (write_output(pa->out, json, len) < 0) {
		fprintf(stderr, "%s: cannot write %s: %s\n", c->prog,
			pa->out ? pa->out : "stdout", strerror(errno));
		return 1;
	}
	return 0;
}

int cli_plan(int argc, char **argv)
{
	struct plan_args pa;
	struct cli c;
	int status;

	if (parse_plan_args(&pa, argc, argv) < 0)
		return usage_error("ironlayer plan", plan_usage);
	if ((status = cli_start(&c, "ironlayer plan", pa.pos[0],
				&pa.cache)) == 0)
		status = run_plan(&c, &pa);
	cli_end(&c);
	return status;
}

/* REPO [--at REV] plus the flags each command adds. */
struct repo_args {
	const char *repo;
	const char *model;        /* lineage only */
	const char *at;
	const char *depth;
	int json;
	int upstream;
	int downstream;
	struct cache_flags cache;
};

static int parse_repo_args(struct repo_args *ra, int argc, char **argv,
			   int want_model)
{
	int i, n = 0, r;

	memset(ra, 0, sizeof(*ra));
	ra->at = "HEAD";
	for (i = 1; i < argc; i++) {
		if ((r = take_opt(&i, argc, argv, "--at", &ra->at)) ||
		    (want_model &&
		     (r = take_opt(&i, argc, argv, "--depth", &ra->depth)))) {
			if (r < 0)
				return -1;
		} else if (!want_model && strcmp(argv[i], "--json") == 0) {
			ra->json = 1;
		} else if (want_model && strcmp(argv[i], "--upstream") == 0) {
			ra->upstream = 1;
		} else if (want_model && strcmp(argv[i], "--downstream") == 0) {
			ra->downstream = 1;
		} else if (take_cache_flag(&ra->cache, argv[i])) {
			continue;
		} else if (argv[i][0] == '-' || n == 1 + want_model) {
			return -1;
		} else if (n++ == 0) {
			ra->repo = argv[i];
		} else {
			ra->model = argv[i];
		}
	}
	return n == 1 + want_model ? 0 : -1;
}

static void models_json(const struct project *p)
{
	size_t i;

	printf("[");
	for (i = 0; i < p->n_models; i++) {
		const struct model *m = p->models[i];
		struct strbuf sb;
		struct arena *a = p->arena;

		strbuf_init(&sb, a, IL_MAX_SQL_FILE);
		strbuf_adds(&sb, i ? ",\n  {" : "\n  {");
		strbuf_adds(&sb, "\"content_hash\": \"");
		strbuf_adds(&sb, m->content_hash);
		strbuf_adds(&sb, "\", \"kind\": \"");
		strbuf_adds(&sb, model_kind_name(m->kind));
		strbuf_adds(&sb, "\", \"materialization\": \"");
		strbuf_adds(&sb, materialization_name(m->materialization));
		strbuf_adds(&sb, "\", \"name\": ");
		strbuf_add_json_string(&sb, m->name, strlen(m->name));
		strbuf_adds(&sb, ", \"path\": ");
		strbuf_add_json_string(&sb, m->path, strlen(m->path));
		strbuf_adds(&sb, "}");
		if (strbuf_cstr(&sb))
			fputs(sb.buf, stdout);
	}
	printf(p->n_models ? "\n]\n" : "]\n");
}

static int run_models(struct cli *c, const struct repo_args *ra)
{
	char sha[REPO_OID_HEX_LEN + 1];
	struct project *p;
	size_t i;

	if (load_at(&p, sha, c, ra->at) < 0)
		return 1;
	print_diags(p, 0);
	if (ra->json) {
		models_json(p);
	} else {
		for (i = 0; i < p->n_models; i++) {
			const struct model *m = p->models[i];

			printf("%-40s %-26s %-16s %s\n", m->name,
			       model_kind_name(m->kind),
			       materialization_name(m->materialization),
			       m->path);
		}
	}
	return p->diags.n_errors ? 1 : 0;
}

int cli_models(int argc, char **argv)
{
	struct repo_args ra;
	struct cli c;
	int status;

	if (parse_repo_args(&ra, argc, argv, 0) < 0)
		return usage_error("ironlayer models", "REPO [--at REV] [--json] "
				   "[--no-cache]");
	if ((status = cli_start(&c, "ironlayer models", ra.repo,
				&ra.cache)) == 0)
		status = run_models(&c, &ra);
	cli_end(&c);
	return status;
}

static int print_lineage(struct cli *c, const struct project *p, int v,
			 int downstream, int depth)
{
	struct lineage_entry *e;
	size_t n, i;

	if (dag_lineage(&e, &n, c->a, &p->dag, v, downstream, depth) < 0) {
		fprintf(stderr, "%s: out of memory\n", c->prog);
		return -1;
	}
	printf("%s:\n", downstream ? "downstream" : "upstream");
	for (i = 0; i < n; i++)
		printf("  %d %s\n", e[i].depth, p->models[e[i].node]->name);
	return 0;
}

static int run_lineage(struct cli *c, const struct repo_args *ra)
{
	char sha[REPO_OID_HEX_LEN + 1];
	struct project *p;
	int64_t depth = 0;
	int v, both = !ra->upstream && !ra->downstream;

	if (ra->depth && parse_i64(ra->depth, 1, 1000000, &depth) < 0) {
		fprintf(stderr, "%s: --depth must be a positive number\n",
			c->prog);
		return 2;
	}
	if (load_at(&p, sha, c, ra->at) < 0)
		return 1;
	print_diags(p, 0);
	v = project_resolve(p, ra->model, strlen(ra->model));
	if (v < 0) {
		fprintf(stderr, "%s: %s model '%s' at %s\n", c->prog,
			v == -2 ? "ambiguous" : "no", ra->model, ra->at);
		return 1;
	}
	printf("%s\n", p->models[v]->name);
	if ((both || ra->upstream) &&
	    print_lineage(c, p, v, 0, (int)depth) < 0)
		return 1;
	if ((both || ra->downstream) &&
	    print_lineage(c, p, v, 1, (int)depth) < 0)
		return 1;
	return 0;
}

int cli_lineage(int argc, char **argv)
{
	struct repo_args ra;
	struct cli c;
	int status;

	if (parse_repo_args(&ra, argc, argv, 1) < 0)
		return usage_error("ironlayer lineage", "REPO MODEL [--at REV] "
				   "[--upstream|--downstream] [--depth N] "
				   "[--no-cache]");
	if ((status = cli_start(&c, "ironlayer lineage", ra.repo,
				&ra.cache)) == 0)
		status = run_lineage(&c, &ra);
	cli_end(&c);
	return status;
}

static int run_check(struct cli *c, const struct repo_args *ra)
{
	char sha[REPO_OID_HEX_LEN + 1];
	struct project *p;

	if (load_at(&p, sha, c, ra->at) < 0)
		return 1;
	print_diags(p, 1);
	if (p->models_dir == NULL)
		fprintf(stderr, "%s: no models directory at %s (tried %s, "
			"sql/models, dbt/models)\n", c->prog, ra->at,
			c->cfg.models_dir ? c->cfg.models_dir : "models");
	printf("%zu models, %zu errors, %zu warnings\n", p->n_models,
	       p->diags.n_errors, p->diags.n - p->diags.n_errors);
	return p->diags.n_errors ? 1 : 0;
}

int cli_check(int argc, char **argv)
{
	struct repo_args ra;
	struct cli c;
	int status;

	if (parse_repo_args(&ra, argc, argv, 0) < 0 || ra.json)
		return usage_error("ironlayer check", "REPO [--at REV] "
				   "[--no-cache] [--cache-stats]");
	if ((status = cli_start(&c, "ironlayer check", ra.repo,
				&ra.cache)) == 0)
		status = run_check(&c, &ra);
	cli_end(&c);
	return status;
}
