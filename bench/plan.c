/* plan.c: benchmark of `ironlayer plan` on generated repos, cold and warm */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/parse.h"

#define LAYERS 10
#define MAX_RUNS 15
#define MAX_CASES 8
#define CHAIN_DIR_SIZE 1000

/*
 * Two shapes. layers: 10 layers, each model refs 2-3 models of earlier
 * layers, every 100th model's logic changes (1%). chain: model i refs
 * model i-1 and only the root changes, so every model is a step and each
 * step's reason names the root, 50,000 edges away at the end.
 */
enum shape { SHAPE_LAYERS, SHAPE_CHAIN };

struct bench_case {
	enum shape shape;
	long n;
};

struct opts {
	const char *ironlayer;
	const char *baseline;     /* another ironlayer to compare, or NULL */
	const char *dir;
	int runs;
	struct bench_case cases[MAX_CASES];
	int n_cases;
};

/* One series of runs of a case: cold (empty parse cache) or warm. */
struct series {
	double wall[MAX_RUNS];
	double cpu[MAX_RUNS];
	long rss_kb[MAX_RUNS];
};

struct result {
	struct series base, base_warm, cold, warm;
	long steps;
};

static const char *shape_name(enum shape s)
{
	return s == SHAPE_CHAIN ? "chain" : "layers";
}

/* Deterministic pseudo-random numbers so every machine builds one repo. */
static unsigned long rng_state = 12345;

static unsigned long rng(void)
{
	rng_state = rng_state * 6364136223846793005UL + 1442695040888963407UL;
	return rng_state >> 33;
}

static int layer_of(long i, long n)
{
	return (int)(i * LAYERS / n);
}

/* First model index of a layer. */
static long layer_start(int layer, long n)
{
	return (layer * n + LAYERS - 1) / LAYERS;
}

static void model_name(char *buf, size_t len, long i, long n)
{
	snprintf(buf, len, "l%d.m%06ld", layer_of(i, n), i);
}

/* An upstream for model i: a model of an earlier layer. */
static long pick_upstream(long i, long n)
{
	long end = layer_start(layer_of(i, n), n);

	return (long)(rng() % (unsigned long)end);
}

static int write_layer_model(const char *root, long i, long n, int version)
{
	char path[4096], name[64], up[3][64];
	int layer = layer_of(i, n), nrefs;
	int k, incr = i % 7 == 3;
	FILE *f;

	rng_state = 12345 + (unsigned long)i * 7919;  /* same refs each time */
	nrefs = layer ? 2 + (int)(rng() % 2) : 0;
	model_name(name, sizeof(name), i, n);
	for (k = 0; k < nrefs; k++)
		model_name(up[k], sizeof(up[k]), pick_upstream(i, n), n);
	if (snprintf(path, sizeof(path), "%s/models/l%d/m%06ld.sql", root,
		     layer, i) >= (int)sizeof(path) ||
	    (f = fopen(path, "w")) == NULL)
		return -1;
	fprintf(f, "-- name: %s\n-- kind: %s\n%s-- owner: team_%ld\n", name,
		incr ? "INCREMENTAL_BY_TIME_RANGE" : "FULL_REFRESH",
		incr ? "-- time_column: d\n" : "", i % 13);
	fprintf(f, "WITH base AS (\n  SELECT id, d, amount, category\n");
	if (nrefs)
		fprintf(f, "  FROM {{ ref('%s') }}\n", up[0]);
	else
		fprintf(f, "  FROM source.table_%ld\n", i);
	fprintf(f, "  WHERE amount > %d\n),\n", version);
	for (k = 1; k < nrefs; k++)
		fprintf(f, "u%d AS (\n  SELECT id, amount AS a%d\n  FROM "
			"{{ ref('%s') }}\n),\n", k, k, up[k]);
	fprintf(f, "agg AS (\n  SELECT id, d, SUM(amount) AS total, COUNT(*) "
		"AS n\n  FROM base\n  GROUP BY id, d\n)\nSELECT agg.id,\n"
		"       agg.d,\n       agg.total,\n       agg.n\nFROM agg\n");
	for (k = 1; k < nrefs; k++)
		fprintf(f, "LEFT JOIN u%d ON u%d.id = agg.id\n", k, k);
	fprintf(f, "WHERE agg.d >= '{{ start_date }}' AND agg.d < "
		"'{{ end_date }}'\n");
	return fclose(f);
}

static int write_chain_model(const char *root, long i, int version)
{
	char path[4096];
	FILE *f;

	if (snprintf(path, sizeof(path), "%s/models/c%03ld/m%06ld.sql", root,
		     i / CHAIN_DIR_SIZE, i) >= (int)sizeof(path) ||
	    (f = fopen(path, "w")) == NULL)
		return -1;
	fprintf(f, "-- name: chain.m%06ld\n-- kind: FULL_REFRESH\n"
		"-- owner: team_%ld\n", i, i % 13);
	fprintf(f, "SELECT id, d, amount + %d AS amount, category\n", version);
	if (i == 0)
		fprintf(f, "FROM source.events\n");
	else
		fprintf(f, "FROM {{ ref('chain.m%06ld') }}\n", i - 1);
	fprintf(f, "WHERE amount > 0\n");
	return fclose(f);
}

static int run_shell(const char *cmd)
{
	return system(cmd) == 0 ? 0 : -1;
}

static int make_dir(const char *dir)
{
	char cmd[8192];

	if (snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", dir) >= (int)sizeof(cmd))
		return -1;
	return run_shell(cmd);
}

#define GIT_ENV "export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null" \
	" GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@x.invalid" \
	" GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@x.invalid" \
	" GIT_AUTHOR_DATE='@1700000000 +0000'" \
	" GIT_COMMITTER_DATE='@1700000000 +0000' && "

static int make_dirs(const char *root, const struct bench_case *c)
{
	char path[4096];
	long d, n = c->shape == SHAPE_CHAIN ?
		(c->n + CHAIN_DIR_SIZE - 1) / CHAIN_DIR_SIZE : LAYERS;

	for (d = 0; d < n; d++)
		if (snprintf(path, sizeof(path), c->shape == SHAPE_CHAIN ?
			     "%s/models/c%03ld" : "%s/models/l%ld", root, d) >=
		    (int)sizeof(path) || make_dir(path) < 0)
			return -1;
	return 0;
}

/* Commit 1: n models; commit 2: the shape's changes. */
static int generate(const char *root, const struct bench_case *c)
{
	char cmd[8192];
	long i, n = c->n;

	if (make_dirs(root, c) < 0)
		return -1;
	for (i = 0; i < n; i++)
		if ((c->shape == SHAPE_CHAIN ? write_chain_model(root, i, 0) :
		     write_layer_model(root, i, n, 0)) < 0)
			return -1;
	if (snprintf(cmd, sizeof(cmd), "cd '%s' && " GIT_ENV "git -c "
		     "init.defaultBranch=main init -q . && git config gc.auto 0 && "
		     "git add -A && git commit -q -m base", root) >= (int)sizeof(cmd))
		return -1;
	if (run_shell(cmd) < 0)
		return -1;
	if (c->shape == SHAPE_CHAIN) {
		if (write_chain_model(root, 0, 1) < 0)
			return -1;
	} else {
		for (i = 50; i < n; i += 100)
			if (write_layer_model(root, i, n, 1) < 0)
				return -1;
	}
	if (snprintf(cmd, sizeof(cmd), "cd '%s' && " GIT_ENV "git commit -q -a "
		     "-m target && git gc -q", root) >= (int)sizeof(cmd))
		return -1;
	return run_shell(cmd);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * One `ironlayer plan` with its parse cache in cache_dir; wall and CPU
 * seconds and peak RSS (KiB) of the child.
 */
static int run_once(const char *ironlayer, const char *repo, const char *out,
		    const char *cache_dir, double *wall, double *cpu, long *rss)
{
	struct rusage ru;
	double t0 = now();
	int status, fd;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		fd = open("/dev/null", O_WRONLY);
		if (fd >= 0)
			dup2(fd, 1);
		setenv("XDG_CACHE_HOME", cache_dir, 1);
		execl(ironlayer, ironlayer, "--config", "/dev/null", "plan",
		      repo, "HEAD~1", "HEAD", "--as-of", "2025-06-15", "--out",
		      out, (char *)NULL);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0)
		return -1;
	*wall = now() - t0;
	*cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	*rss = ru.ru_maxrss;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static long count_steps(const char *path)
{
	char line[4096];
	long n = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "\"step_id\""))
			n++;
	fclose(f);
	return n;
}

/* 0 when the two files have the same bytes. */
static int same_bytes(const char *a, const char *b)
{
	char cmd[8600];

	snprintf(cmd, sizeof(cmd), "cmp -s '%s' '%s'", a, b);
	return run_shell(cmd);
}

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int long_cmp(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

struct paths {
	char repo[4096];
	char cache[4200];
	char out_base[4200];
	char out_cold[4200];
	char out_warm[4200];
};

static void case_paths(struct paths *p, const struct opts *o,
		       const struct bench_case *c)
{
	const char *s = shape_name(c->shape);

	snprintf(p->repo, sizeof(p->repo), "%s/%s%ld", o->dir,
		 c->shape == SHAPE_CHAIN ? "chain" : "n", c->n);
	snprintf(p->cache, sizeof(p->cache), "%s/cache-%s-%ld", o->dir, s, c->n);
	snprintf(p->out_cold, sizeof(p->out_cold), "%s/plan-%s-%ld-cold.json",
		 o->dir, s, c->n);
	snprintf(p->out_warm, sizeof(p->out_warm), "%s/plan-%s-%ld-warm.json",
		 o->dir, s, c->n);
	snprintf(p->out_base, sizeof(p->out_base), "%s/plan-%s-%ld-base.json",
		 o->dir, s, c->n);
}

static int ensure_repo(const struct paths *p, const struct bench_case *c)
{
	char probe[4200];
	double t0 = now();

	snprintf(probe, sizeof(probe), "%s/.git", p->repo);
	if (access(probe, F_OK) == 0)
		return 0;
	if (make_dir(p->repo) < 0 || generate(p->repo, c) < 0) {
		fprintf(stderr, "bench: cannot generate %s\n", p->repo);
		return -1;
	}
	fprintf(stderr, "bench: generated %ld models (%s) in %.1f s\n", c->n,
		shape_name(c->shape), now() - t0);
	return 0;
}

static int empty_cache(const char *dir)
{
	char cmd[8600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", dir, dir);
	return run_shell(cmd);
}

/* Run i of a case: the baseline (when given) cold and warm, then this
 * build cold (the cache emptied first) and warm. */
static int measure_round(const struct opts *o, const struct bench_case *c,
			 struct result *r, int i)
{
	struct paths p;

	case_paths(&p, o, c);
	if ((o->baseline &&
	     (empty_cache(p.cache) < 0 ||
	      run_once(o->baseline, p.repo, p.out_base, p.cache,
		       &r->base.wall[i], &r->base.cpu[i],
		       &r->base.rss_kb[i]) < 0 ||
	      run_once(o->baseline, p.repo, p.out_base, p.cache,
		       &r->base_warm.wall[i], &r->base_warm.cpu[i],
		       &r->base_warm.rss_kb[i]) < 0)) ||
	    empty_cache(p.cache) < 0 ||
	    run_once(o->ironlayer, p.repo, p.out_cold, p.cache,
		     &r->cold.wall[i], &r->cold.cpu[i], &r->cold.rss_kb[i]) < 0 ||
	    run_once(o->ironlayer, p.repo, p.out_warm, p.cache,
		     &r->warm.wall[i], &r->warm.cpu[i], &r->warm.rss_kb[i]) < 0) {
		fprintf(stderr, "bench: ironlayer plan failed on %s\n", p.repo);
		return -1;
	}
	if (same_bytes(p.out_cold, p.out_warm) != 0) {
		fprintf(stderr, "bench: cold and warm plans differ: %s %s\n",
			p.out_cold, p.out_warm);
		return -1;
	}
	r->steps = count_steps(p.out_warm);
	return 0;
}

static void sort_series(struct series *s, int k)
{
	qsort(s->wall, (size_t)k, sizeof(double), dbl_cmp);
	qsort(s->cpu, (size_t)k, sizeof(double), dbl_cmp);
	qsort(s->rss_kb, (size_t)k, sizeof(long), long_cmp);
}

static void report(const struct opts *o, const struct bench_case *c,
		   struct result *r)
{
	int k = o->runs;
	long rss;

	sort_series(&r->base, k);
	sort_series(&r->base_warm, k);
	sort_series(&r->cold, k);
	sort_series(&r->warm, k);
	rss = r->cold.rss_kb[k - 1] > r->warm.rss_kb[k - 1] ?
		r->cold.rss_kb[k - 1] : r->warm.rss_kb[k - 1];
	if (o->baseline)
		printf("%-7s %7ld %7ld %8.3f %8.3f %8.3f %8.3f %8.1f | ",
		       shape_name(c->shape), c->n, r->steps, r->base.wall[k / 2],
		       r->base.cpu[k / 2], r->base_warm.wall[k / 2],
		       r->base_warm.cpu[k / 2],
		       (double)(r->base.rss_kb[k - 1] > r->base_warm.rss_kb[k - 1] ?
				r->base.rss_kb[k - 1] :
				r->base_warm.rss_kb[k - 1]) / 1024.0);
	else
		printf("%-7s %7ld %7ld | ", shape_name(c->shape), c->n, r->steps);
	printf("%8.3f %7.3f %7.3f %8.3f %8.3f %7.3f %7.3f %8.3f %8.1f %7.2f\n",
	       r->cold.wall[k / 2], r->cold.wall[0], r->cold.wall[k - 1],
	       r->cold.cpu[k / 2], r->warm.wall[k / 2], r->warm.wall[0],
	       r->warm.wall[k - 1], r->warm.cpu[k / 2], (double)rss / 1024.0,
	       (double)rss / (double)c->n);
}

/* [chain:]SIZE */
static int parse_case(struct bench_case *c, const char *arg)
{
	int64_t v;

	c->shape = SHAPE_LAYERS;
	if (strncmp(arg, "chain:", 6) == 0) {
		c->shape = SHAPE_CHAIN;
		arg += 6;
	}
	if (parse_i64(arg, 100, 100000, &v) < 0)
		return -1;
	c->n = (long)v;
	return 0;
}

static int parse_args(struct opts *o, int argc, char **argv)
{
	static const char *const defaults[] = {
		"1000", "10000", "50000", "chain:50000",
	};
	int i;

	o->ironlayer = "./ironlayer";
	o->baseline = NULL;
	o->dir = "/tmp/ironlayer-bench";
	o->runs = 5;
	o->n_cases = 0;
	for (i = 1; i < argc; i++) {
		int64_t v;

		if (strcmp(argv[i], "--ironlayer") == 0 && i + 1 < argc) {
			o->ironlayer = argv[++i];
		} else if (strcmp(argv[i], "--baseline") == 0 && i + 1 < argc) {
			o->baseline = argv[++i];
		} else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
			o->dir = argv[++i];
		} else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
			if (parse_i64(argv[++i], 1, MAX_RUNS, &v) < 0)
				return -1;
			o->runs = (int)v;
		} else if (o->n_cases == MAX_CASES ||
			   parse_case(&o->cases[o->n_cases++], argv[i]) < 0) {
			return -1;
		}
	}
	for (i = 0; o->n_cases == 0 && i < 4; i++)
		parse_case(&o->cases[i], defaults[i]);
	if (o->n_cases == 0)
		o->n_cases = 4;
	return 0;
}

int main(int argc, char **argv)
{
	static struct result r[MAX_CASES];
	struct paths p;
	struct opts o;
	int i, k;

	if (parse_args(&o, argc, argv) < 0) {
		fprintf(stderr, "usage: bench/plan [--ironlayer PATH] "
			"[--baseline PATH] [--dir DIR] [--runs N] "
			"[[chain:]SIZE...]\n");
		return 2;
	}
	for (i = 0; i < o.n_cases; i++) {
		case_paths(&p, &o, &o.cases[i]);
		if (ensure_repo(&p, &o.cases[i]) < 0)
			return 1;
	}
	printf("# ironlayer plan HEAD~1 HEAD; layers: 1%% of models changed, "
	       "chain: the root changed\n# %d interleaved rounds after one "
	       "warm-up round; each round runs every case %scold (empty parse "
	       "cache) then warm; medians, min, max; cpu = user + sys of the "
	       "process; rss = peak\n", o.runs,
	       o.baseline ? "with the baseline (base_: cold, bwarm_: warm), " :
	       "");
	if (o.baseline)
		printf("%-7s %7s %7s %8s %8s %8s %8s %8s | ", "shape",
		       "models", "steps", "base_s", "base_cpu", "bwarm_s",
		       "bw_cpu", "base_mb");
	else
		printf("%-7s %7s %7s | ", "shape", "models", "steps");
	printf("%8s %7s %7s %8s %8s %7s %7s %8s %8s %7s\n", "cold_s", "min",
	       "max", "cold_cpu", "warm_s", "min", "max", "warm_cpu", "rss_mb",
	       "kib/mod");
	fflush(stdout);
	/* round -1 warms the page cache and is not counted */
	for (k = -1; k < o.runs; k++)
		for (i = 0; i < o.n_cases; i++)
			if (measure_round(&o, &o.cases[i], &r[i], k < 0 ? 0 : k) < 0)
				return 1;
	for (i = 0; i < o.n_cases; i++)
		report(&o, &o.cases[i], &r[i]);
	return 0;
}
