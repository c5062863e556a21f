/* cli_models.c: ironlayer models, lineage and check (a repository, no server) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bin/cli.h"
#include "bin/cli_out.h"
#include "bin/cli_project.h"
#include "core/dag.h"
#include "core/dot.h"
#include "core/project.h"
#include "util/arena.h"
#include "util/limits.h"
#include "util/parse.h"
#include "util/strbuf.h"

/* REPO [MODEL] [--at REV] plus the flags each command adds. */
struct repo_args {
	const char *pos[2];
	const char *at;
	const char *depth;
	const char *format;
	int json;
	int upstream;
	int downstream;
	struct cli_cache_flags cache;
};

/* 0, or the exit status (0 after --help, 2 after a usage message). */
static int parse_repo_args(struct repo_args *ra, const char *cmd, int argc, char **argv,
			   int want_model, int *status)
{
	const struct cli_opt common[] = {
		{ "--at", &ra->at, NULL }, { "--json", NULL, &ra->json },
		CLI_CACHE_OPTS(&ra->cache), { NULL, NULL, NULL }
	};
	const struct cli_opt lineage[] = {
		{ "--at", &ra->at, NULL }, { "--json", NULL, &ra->json },
		{ "--depth", &ra->depth, NULL }, { "--format", &ra->format, NULL },
		{ "--upstream", NULL, &ra->upstream }, { "--downstream", NULL, &ra->downstream },
		CLI_CACHE_OPTS(&ra->cache), { NULL, NULL, NULL }
	};
	int n;

	memset(ra, 0, sizeof(*ra));
	ra->at = "HEAD";
	n = cli_parse(cmd, argc, argv, want_model ? lineage : common, ra->pos, 1 + want_model);
	if (n < 0) {
		*status = n == CLI_PARSE_HELP ? 0 : 2;
		return -1;
	}
	if (n != 1 + want_model) {
		*status = cli_usage_error(cmd);
		return -1;
	}
	return 0;
}

static void models_json(const struct project *p)
{
	size_t i;

	printf("[");
	for (i = 0; i < p->n_models; i++) {
		const struct model *m = p->models[i];
		struct strbuf sb;

		strbuf_init(&sb, p->arena, IL_MAX_SQL_FILE);
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

	if (cli_load_at(&p, sha, c, ra->at) < 0)
		return 1;
	cli_print_diags(p, 0);
	if (ra->json) {
		models_json(p);
	} else {
		for (i = 0; i < p->n_models; i++) {
			const struct model *m = p->models[i];

			printf("%-40s %-26s %-16s %s\n", m->name, model_kind_name(m->kind),
			       materialization_name(m->materialization), m->path);
		}
	}
	return p->diags.n_errors ? 1 : 0;
}

int cli_models(int argc, char **argv)
{
	struct repo_args ra;
	struct cli c;
	int status;

	if (parse_repo_args(&ra, "models", argc, argv, 0, &status) < 0)
		return status;
	if ((status = cli_start(&c, "ironlayer models", ra.pos[0], &ra.cache)) == 0)
		status = run_models(&c, &ra);
	cli_end(&c);
	return status;
}

/* The model, its upstreams and its downstreams: node v of the DAG sits at pos[v] - 1. */
struct lineage {
	const struct project *p;
	int self;
	struct lineage_entry *up, *down;
	size_t n_up, n_down;
	int *pos;
	const char **names;
	size_t n;
};

static void add_node(struct lineage *l, int v)
{
	if (l->pos[v] == 0) {
		l->names[l->n] = l->p->models[v]->name;
		l->pos[v] = (int)++l->n;
	}
}

/* The edges between the lineage's nodes, as positions in names. */
static struct dag_edge *lineage_edges(struct lineage *l, struct arena *a, size_t *n_edges)
{
	const struct dag *d = &l->p->dag;
	struct dag_edge *e;
	size_t i, k, n = 0, cap = 0;

	for (i = 0; i < l->p->n_models; i++)
		if (l->pos[i])
			cap += d->parent_off[i + 1] - d->parent_off[i];
	if ((e = arena_calloc(a, cap + 1, sizeof(*e))) == NULL)
		return NULL;
	for (i = 0; i < l->p->n_models; i++)
		for (k = d->parent_off[i]; l->pos[i] && k < d->parent_off[i + 1]; k++) {
			int up = l->pos[d->parent_idx[k]];

			if (up)
				e[n++] = (struct dag_edge){ up - 1, l->pos[i] - 1 };
		}
	*n_edges = n;
	return e;
}

static int lineage_collect(struct lineage *l, struct arena *a, const struct repo_args *ra,
			   int depth)
{
	int both = !ra->upstream && !ra->downstream;
	size_t i;

	l->pos = arena_calloc(a, l->p->n_models + 1, sizeof(*l->pos));
	l->names = arena_calloc(a, l->p->n_models + 1, sizeof(*l->names));
	if (l->pos == NULL || l->names == NULL ||
	    ((both || ra->upstream) &&
	     dag_lineage(&l->up, &l->n_up, a, &l->p->dag, l->self, 0, depth) < 0) ||
	    ((both || ra->downstream) &&
	     dag_lineage(&l->down, &l->n_down, a, &l->p->dag, l->self, 1, depth) < 0))
		return -1;
	add_node(l, l->self);
	for (i = 0; i < l->n_up; i++)
		add_node(l, l->up[i].node);
	for (i = 0; i < l->n_down; i++)
		add_node(l, l->down[i].node);
	return 0;
}

static json_object *entries_json(const struct lineage *l, const struct lineage_entry *e,
				 size_t n)
{
	json_object *list = json_object_new_array();
	size_t i;

	for (i = 0; i < n; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "name",
				       json_object_new_string(l->p->models[e[i].node]->name));
		json_object_object_add(o, "depth", json_object_new_int(e[i].depth));
		json_object_array_add(list, o);
	}
	return list;
}

static int lineage_json(const struct lineage *l, const struct dag_edge *e, size_t n_edges)
{
	json_object *o = json_object_new_object(), *edges = json_object_new_array();
	size_t i;
	int rc;

	json_object_object_add(o, "model", json_object_new_string(l->names[0]));
	json_object_object_add(o, "upstream", entries_json(l, l->up, l->n_up));
	json_object_object_add(o, "downstream", entries_json(l, l->down, l->n_down));
	for (i = 0; i < n_edges; i++) {
		json_object *edge = json_object_new_object();

		json_object_object_add(edge, "source", json_object_new_string(l->names[e[i].from]));
		json_object_object_add(edge, "target", json_object_new_string(l->names[e[i].to]));
		json_object_array_add(edges, edge);
	}
	json_object_object_add(o, "edges", edges);
	rc = cli_print_json(o);
	json_object_put(o);
	return rc;
}

static void lineage_text(const struct lineage *l, const struct repo_args *ra)
{
	int both = !ra->upstream && !ra->downstream;
	size_t i;

	printf("%s\n", l->names[0]);
	if (both || ra->upstream) {
		printf("upstream:\n");
		for (i = 0; i < l->n_up; i++)
			printf("  %d %s\n", l->up[i].depth, l->p->models[l->up[i].node]->name);
	}
	if (both || ra->downstream) {
		printf("downstream:\n");
		for (i = 0; i < l->n_down; i++)
			printf("  %d %s\n", l->down[i].depth, l->p->models[l->down[i].node]->name);
	}
}

/* --format text|json|dot (--json is --format json); NULL after a message. */
static const char *lineage_format(struct cli *c, const struct repo_args *ra)
{
	const char *f = ra->format ? ra->format : ra->json ? "json" : "text";

	if (strcmp(f, "text") == 0 || strcmp(f, "json") == 0 || strcmp(f, "dot") == 0)
		return f;
	fprintf(stderr, "%s: --format must be text, json or dot\n", c->prog);
	return NULL;
}

/* The project at --at, refused when it has errors: a cycle makes lineage meaningless. */
static int load_clean(struct project **p, struct cli *c, const char *at)
{
	char sha[REPO_OID_HEX_LEN + 1], n[48];

	if (cli_load_at(p, sha, c, at) < 0)
		return 1;
	if ((*p)->diags.n_errors == 0)
		return 0;
	cli_print_diags(*p, 0);
	fprintf(stderr, "%s: %s at %s: lineage needs models without errors (ironlayer check "
		"lists every problem)\n", c->prog,
		cli_count(n, sizeof(n), (long long)(*p)->diags.n_errors, "error", NULL), at);
	return 1;
}

static int run_lineage(struct cli *c, const struct repo_args *ra)
{
	struct lineage l;
	struct dag_edge *edges;
	const char *fmt = lineage_format(c, ra), *dot;
	int64_t depth = 0;
	size_t n_edges = 0;
	struct project *p;

	if (fmt == NULL || (ra->depth && parse_i64(ra->depth, 1, 1000000, &depth) < 0)) {
		if (fmt != NULL)
			fprintf(stderr, "%s: --depth must be a positive number\n", c->prog);
		return 2;
	}
	if (load_clean(&p, c, ra->at) != 0)
		return 1;
	memset(&l, 0, sizeof(l));
	l.p = p;
	if ((l.self = project_resolve(p, ra->pos[1], strlen(ra->pos[1]))) < 0) {
		fprintf(stderr, "%s: %s model '%s' at %s\n", c->prog, l.self == -2 ? "ambiguous" :
			"no", ra->pos[1], ra->at);
		return 1;
	}
	if (lineage_collect(&l, c->a, ra, (int)depth) < 0 ||
	    (edges = lineage_edges(&l, c->a, &n_edges)) == NULL) {
		fprintf(stderr, "%s: out of memory\n", c->prog);
		return 1;
	}
	if (strcmp(fmt, "json") == 0)
		return lineage_json(&l, edges, n_edges);
	if (strcmp(fmt, "dot") == 0) {
		if (dot_graph(&dot, c->a, l.names, l.n, 0, edges, n_edges) < 0)
			return 1;
		return fputs(dot, stdout) < 0;
	}
	lineage_text(&l, ra);
	return 0;
}

int cli_lineage(int argc, char **argv)
{
	struct repo_args ra;
	struct cli c;
	int status;

	if (parse_repo_args(&ra, "lineage", argc, argv, 1, &status) < 0)
		return status;
	if ((status = cli_start(&c, "ironlayer lineage", ra.pos[0], &ra.cache)) == 0)
		status = run_lineage(&c, &ra);
	cli_end(&c);
	return status;
}

static int check_json(const struct project *p)
{
	json_object *o = json_object_new_object(), *list = json_object_new_array();
	size_t i;
	int rc;

	for (i = 0; i < p->diags.n; i++) {
		const struct diag *d = &p->diags.items[i];
		json_object *e = json_object_new_object();

		json_object_object_add(e, "file", json_object_new_string(d->file));
		json_object_object_add(e, "line", json_object_new_int((int)d->line));
		json_object_object_add(e, "severity", json_object_new_string(
			d->severity == DIAG_ERROR ? "error" : "warning"));
		json_object_object_add(e, "message", json_object_new_string(d->message));
		json_object_array_add(list, e);
	}
	json_object_object_add(o, "models", json_object_new_int64((int64_t)p->n_models));
	json_object_object_add(o, "errors", json_object_new_int64((int64_t)p->diags.n_errors));
	json_object_object_add(o, "warnings",
			       json_object_new_int64((int64_t)(p->diags.n - p->diags.n_errors)));
	json_object_object_add(o, "models_dir", p->models_dir ?
			       json_object_new_string(p->models_dir) : NULL);
	json_object_object_add(o, "diagnostics", list);
	rc = cli_print_json(o);
	json_object_put(o);
	return rc;
}

static int run_check(struct cli *c, const struct repo_args *ra)
{
	char sha[REPO_OID_HEX_LEN + 1];
	struct project *p;

	if (cli_load_at(&p, sha, c, ra->at) < 0)
		return 1;
	if (ra->json && check_json(p) != 0)
		return 1;
	if (!ra->json) {
		char b[3][48];

		cli_print_diags(p, 1);
		printf("%s, %s, %s\n", cli_count(b[0], 48, (long long)p->n_models, "model", NULL),
		       cli_count(b[1], 48, (long long)p->diags.n_errors, "error", NULL),
		       cli_count(b[2], 48, (long long)(p->diags.n - p->diags.n_errors), "warning",
				 NULL));
	}
	/* no models is a failure too: the wrong directory, or models_dir set wrong */
	if (p->models_dir == NULL)
		fprintf(stderr, "%s: no models directory at %s "
			"(tried %s, sql/models, dbt/models)\n", c->prog, ra->at,
			c->cfg.models_dir ? c->cfg.models_dir : "models");
	else if (p->n_models == 0)
		fprintf(stderr, "%s: no model files (*.sql) under %s at %s\n", c->prog,
			p->models_dir, ra->at);
	return p->diags.n_errors || p->n_models == 0 ? 1 : 0;
}

int cli_check(int argc, char **argv)
{
	struct repo_args ra;
	struct cli c;
	int status;

	if (parse_repo_args(&ra, "check", argc, argv, 0, &status) < 0)
		return status;
	if ((status = cli_start(&c, "ironlayer check", ra.pos[0], &ra.cache)) == 0)
		status = run_check(&c, &ra);
	cli_end(&c);
	return status;
}
