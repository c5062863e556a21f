/* plan.c: benchmark of `ironlayer plan` on generated 1k/10k/50k-model repos */
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

struct opts {
	const char *ironlayer;
	const char *dir;
	int runs;
};

struct result {
	double wall[MAX_RUNS];
	double cpu[MAX_RUNS];
	long rss_kb[MAX_RUNS];
	long steps;
};

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

static int write_model(const char *root, long i, long n, int version)
{
	char path[4096], name[64], up[3][64];
	int layer = layer_of(i, n), nrefs = layer ? 2 + (int)(rng() % 2) : 0;
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

/* Commit 1: n models; commit 2: every 100th model's logic changed. */
static int generate(const char *root, long n)
{
	char path[4096], cmd[8192];
	long i;
	int layer;

	for (layer = 0; layer < LAYERS; layer++) {
		if (snprintf(path, sizeof(path), "%s/models/l%d", root, layer) >=
		    (int)sizeof(path) || make_dir(path) < 0)
			return -1;
	}
	for (i = 0; i < n; i++)
		if (write_model(root, i, n, 0) < 0)
			return -1;
	if (snprintf(cmd, sizeof(cmd), "cd '%s' && " GIT_ENV "git -c "
		     "init.defaultBranch=main init -q . && git config gc.auto 0 && "
		     "git add -A && git commit -q -m base", root) >= (int)sizeof(cmd))
		return -1;
	if (run_shell(cmd) < 0)
		return -1;
	for (i = 50; i < n; i += 100)
		if (write_model(root, i, n, 1) < 0)
			return -1;
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

/* One `ironlayer plan`; wall seconds and peak RSS (KiB) of the child. */
static int run_once(const struct opts *o, const char *repo, const char *out,
		    double *wall, double *cpu, long *rss)
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
		execl(o->ironlayer, o->ironlayer, "--config", "/dev/null", "plan",
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

static int measure(const struct opts *o, long n, struct result *r)
{
	char repo[4096], out[4200], probe[4200];
	double wall, cpu;
	long rss;
	int i;

	snprintf(repo, sizeof(repo), "%s/n%ld", o->dir, n);
	snprintf(out, sizeof(out), "%s/plan-%ld.json", o->dir, n);
	snprintf(probe, sizeof(probe), "%s/.git", repo);
	if (access(probe, F_OK) != 0) {
		double t0 = now();

		if (make_dir(repo) < 0 || generate(repo, n) < 0) {
			fprintf(stderr, "bench: cannot generate %s\n", repo);
			return -1;
		}
		fprintf(stderr, "bench: generated %ld models in %.1f s\n", n,
			now() - t0);
	}
	/* one warm-up run so every run reads from the page cache */
	if (run_once(o, repo, out, &wall, &cpu, &rss) < 0) {
		fprintf(stderr, "bench: ironlayer plan failed on %s\n", repo);
		return -1;
	}
	for (i = 0; i < o->runs; i++)
		if (run_once(o, repo, out, &r->wall[i], &r->cpu[i],
			     &r->rss_kb[i]) < 0)
			return -1;
	r->steps = count_steps(out);
	return 0;
}

static void report(const struct opts *o, long n, struct result *r)
{
	int k = o->runs;

	qsort(r->wall, (size_t)k, sizeof(double), dbl_cmp);
	qsort(r->cpu, (size_t)k, sizeof(double), dbl_cmp);
	qsort(r->rss_kb, (size_t)k, sizeof(long), long_cmp);
	printf("%8ld %8ld %10.3f %10.3f %10.3f %10.3f %12.1f\n", n, r->steps,
	       r->wall[k / 2], r->wall[0], r->wall[k - 1], r->cpu[k / 2],
	       (double)r->rss_kb[k - 1] / 1024.0);
	fflush(stdout);
}

static int parse_args(struct opts *o, long *sizes, int *n_sizes, int argc,
		      char **argv)
{
	int i;

	o->ironlayer = "./ironlayer";
	o->dir = "/tmp/ironlayer-bench";
	o->runs = 5;
	*n_sizes = 0;
	for (i = 1; i < argc; i++) {
		int64_t v;

		if (strcmp(argv[i], "--ironlayer") == 0 && i + 1 < argc) {
			o->ironlayer = argv[++i];
		} else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
			o->dir = argv[++i];
		} else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
			if (parse_i64(argv[++i], 1, MAX_RUNS, &v) < 0)
				return -1;
			o->runs = (int)v;
		} else {
			if (parse_i64(argv[i], 100, 100000, &v) < 0 ||
			    *n_sizes == 8)
				return -1;
			sizes[(*n_sizes)++] = (long)v;
		}
	}
	if (*n_sizes == 0) {
		sizes[0] = 1000;
		sizes[1] = 10000;
		sizes[2] = 50000;
		*n_sizes = 3;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct result r;
	long sizes[8];
	int n_sizes, i;

	if (parse_args(&o, sizes, &n_sizes, argc, argv) < 0) {
		fprintf(stderr, "usage: bench/plan [--ironlayer PATH] [--dir DIR]"
			" [--runs N] [SIZE...]\n");
		return 2;
	}
	printf("# ironlayer plan HEAD~1 HEAD, 1%% of models changed, "
	       "%d runs after one warm-up\n", o.runs);
	printf("%8s %8s %10s %10s %10s %10s %12s\n", "models", "steps",
	       "median_s", "min_s", "max_s", "cpu_s", "peak_rss_mb");
	for (i = 0; i < n_sizes; i++) {
		memset(&r, 0, sizeof(r));
		if (measure(&o, sizes[i], &r) < 0)
			return 1;
		report(&o, sizes[i], &r);
	}
	return 0;
}
