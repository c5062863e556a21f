/* models.c: the model catalog: upsert at generate, list, get, lineage */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/dag.h"
#include "core/dot.h"
#include "core/model.h"
#include "core/project.h"
#include "db/models.h"
#include "http/body.h"
#include "util/arena.h"
#include "util/error.h"
#include "util/strbuf.h"

/* A PostgreSQL array literal of items, each double-quoted and escaped. */
static const char *pg_array(struct arena *a, const char *const *items, size_t n)
{
	struct strbuf sb;
	size_t i;
	const char *c;

	strbuf_init(&sb, a, 1 << 20);
	strbuf_addc(&sb, '{');
	for (i = 0; i < n; i++) {
		strbuf_adds(&sb, i ? ",\"" : "\"");
		for (c = items[i]; *c != '\0'; c++) {
			if (*c == '"' || *c == '\\')
				strbuf_addc(&sb, '\\');
			strbuf_addc(&sb, *c);
		}
		strbuf_addc(&sb, '"');
	}
	strbuf_addc(&sb, '}');
	return strbuf_cstr(&sb);
}

static int by_string(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* The distinct resolved upstream names of m, sorted. */
static const char *dependencies(struct arena *a, const struct project *p, const struct model *m)
{
	const char **names = arena_calloc(a, m->n_refs + 1, sizeof(*names));
	size_t i, n = 0;

	if (names == NULL)
		return NULL;
	for (i = 0; i < m->n_refs; i++)
		if (m->refs[i].target >= 0)
			names[n++] = p->models[m->refs[i].target]->name;
	qsort(names, n, sizeof(*names), by_string);
	for (i = 1; i < n; i++)
		if (strcmp(names[i], names[i - 1]) == 0) {
			memmove(&names[i], &names[i + 1], (n - i - 1) * sizeof(*names));
			n--;
			i--;
		}
	return pg_array(a, names, n);
}

int api_catalog_update(struct req *r, const struct project *p, const char *commit)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < p->n_models && rc == 0; i++) {
		const struct model *m = p->models[i];
		struct db_model_row row;

		memset(&row, 0, sizeof(row));
		row.name = m->name;
		row.kind = model_kind_name(m->kind);
		row.materialization = materialization_name(m->materialization);
		row.owner = m->owner;
		row.time_column = m->time_column;
		row.unique_key = m->unique_key;
		row.tags = pg_array(r->arena, m->tags.items, m->tags.n);
		row.dependencies = dependencies(r->arena, p, m);
		row.file_path = m->path;
		row.sql = arena_strndup(r->arena, m->body, m->body_len);
		row.content_hash = m->content_hash;
		row.commit = commit;
		if (row.tags == NULL || row.dependencies == NULL || row.sql == NULL)
			return IL_ENOMEM;
		rc = db_model_upsert(r->db, r->arena, r->who.tenant_id, &row);
	}
	return rc;
}

/*
 * GET /api/v1/models?kind=&owner=&tag=&search=&limit=&offset= (viewer), by
 * name; limit 1..500, default 100 (the reference's: its web UI asks for no
 * page and shows what comes).
 */
int api_models_list(struct req *r)
{
	struct api_page pg;
	const char *json;
	size_t len;
	long long total = 0;
	int rc;

	if (api_page_read_max(&pg, r, 100, 500))
		return 0;
	rc = db_model_list(&json, &len, &total, r->db, r->arena, r->who.tenant_id,
			   req_query(r, "kind"), req_query(r, "owner"), req_query(r, "tag"),
			   req_query(r, "search"), pg.limit, pg.offset);
	if (rc < 0)
		return rc;
	api_page_respond_text(r, &pg, json, len, total);
	return 0;
}

/* GET /api/v1/models/:name (viewer): 200, or 404. */
int api_models_get(struct req *r)
{
	const char *name = req_param(r, 0), *json = NULL;
	int rc = db_model_detail(&json, r->db, r->arena, r->who.tenant_id, name);

	if (rc == IL_ENOTFOUND) {
		req_error(r, 404, "not_found", "model %.200s not found", name);
		return 0;
	}
	if (rc < 0)
		return rc;
	req_json(r, 200, api_json_parse(json));
	return 0;
}

/* The catalog as db/ gives it: entries sorted by name. */
struct catalog {
	const struct db_model_node *m;
	size_t n;
};

/* The index of the model called name, or -1. */
static int find_model(const struct catalog *cat, const char *name)
{
	int lo = 0, hi = (int)cat->n - 1;

	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2, c = strcmp(cat->m[mid].name, name);

		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

struct edges {
	struct dag_edge *e;
	size_t n, cap;
};

static int add_edge(struct edges *es, struct arena *a, int from, int to)
{
	if (es->n == es->cap) {
		size_t cap = es->cap ? es->cap * 2 : 64;
		struct dag_edge *bigger = arena_calloc(a, cap, sizeof(*bigger));

		if (bigger == NULL)
			return IL_ENOMEM;
		if (es->n)
			memcpy(bigger, es->e, es->n * sizeof(*bigger));
		es->e = bigger;
		es->cap = cap;
	}
	es->e[es->n++] = (struct dag_edge){ from, to };
	return 0;
}

/* The catalog as a DAG over its indices; dependencies outside it are ignored. */
static int catalog_dag(struct dag *d, struct edges *es, const struct catalog *cat,
		       struct arena *a)
{
	size_t i, k;
	int rc = 0;

	memset(es, 0, sizeof(*es));
	for (i = 0; i < cat->n && rc == 0; i++)
		for (k = 0; k < cat->m[i].n_upstream && rc == 0; k++) {
			int up = find_model(cat, cat->m[i].upstream[k]);

			if (up >= 0)
				rc = add_edge(es, a, up, (int)i);
		}
	return rc < 0 ? rc : dag_build(d, a, cat->n, es->e, es->n);
}

/* Nodes {id, name, kind, is_target, depth, direction}: id is the name edges use. */
static void add_nodes(json_object *nodes, json_object *names, unsigned char *in,
		      const struct catalog *cat, const struct lineage_entry *l, size_t n,
		      const char *dir)
{
	size_t i;

	for (i = 0; i < n; i++) {
		json_object *o = json_object_new_object();
		const char *name = cat->m[l[i].node].name;

		json_object_object_add(o, "id", json_object_new_string(name));
		json_object_object_add(o, "name", json_object_new_string(name));
		json_object_object_add(o, "is_target",
				       json_object_new_boolean(strcmp(dir, "self") == 0));
		json_object_object_add(o, "kind",
				       json_object_new_string(cat->m[l[i].node].kind));
		json_object_object_add(o, "depth", json_object_new_int(l[i].depth));
		json_object_object_add(o, "direction", json_object_new_string(dir));
		json_object_array_add(nodes, o);
		json_object_array_add(names, json_object_new_string(name));
		in[l[i].node] = 1;
	}
}

static json_object *edges_within(const struct catalog *cat, const struct edges *es,
				 const unsigned char *in)
{
	json_object *list = json_object_new_array();
	size_t i;

	for (i = 0; i < es->n; i++) {
		json_object *o;

		if (!in[es->e[i].from] || !in[es->e[i].to])
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "source",
				       json_object_new_string(cat->m[es->e[i].from].name));
		json_object_object_add(o, "target",
				       json_object_new_string(cat->m[es->e[i].to].name));
		json_object_array_add(list, o);
	}
	return list;
}

/* The node at index v, once: its place in names is pos[v] - 1. */
static void dot_node(const struct catalog *cat, int v, int *pos, const char **names, size_t *n)
{
	if (pos[v] == 0) {
		names[*n] = cat->m[v].name;
		pos[v] = (int)++*n;
	}
}

/* The lineage as Graphviz DOT: the model in bold, its upstreams, its downstreams. */
static int respond_dot(struct req *r, const struct catalog *cat, const struct edges *es,
		       int self, const struct lineage_entry *ul, size_t nu,
		       const struct lineage_entry *dl, size_t nd)
{
	size_t rows = cat->n, n = 0, i, ne = 0;
	int *pos = arena_calloc(r->arena, rows + 1, sizeof(*pos));
	const char **names = arena_calloc(r->arena, rows + 1, sizeof(*names)), *text;
	struct dag_edge *e = arena_calloc(r->arena, es->n + 1, sizeof(*e));

	if (pos == NULL || names == NULL || e == NULL)
		return IL_ENOMEM;
	dot_node(cat, self, pos, names, &n);
	for (i = 0; i < nu; i++)
		dot_node(cat, ul[i].node, pos, names, &n);
	for (i = 0; i < nd; i++)
		dot_node(cat, dl[i].node, pos, names, &n);
	for (i = 0; i < es->n; i++)
		if (pos[es->e[i].from] && pos[es->e[i].to])
			e[ne++] = (struct dag_edge){ pos[es->e[i].from] - 1, pos[es->e[i].to] - 1 };
	if (dot_graph(&text, r->arena, names, n, 0, e, ne) < 0)
		return IL_ENOMEM;
	req_text(r, 200, "text/vnd.graphviz; charset=utf-8", text, strlen(text));
	return 0;
}

static int read_lineage_query(struct req *r, int *up, int *down, int64_t *depth)
{
	const char *dir = req_query(r, "direction"), *format = req_query(r, "format");

	*up = dir == NULL || strcmp(dir, "both") == 0 || strcmp(dir, "upstream") == 0;
	*down = dir == NULL || strcmp(dir, "both") == 0 || strcmp(dir, "downstream") == 0;
	if (!*up && !*down)
		req_invalid(r, "query", "direction", "must be upstream, downstream or both",
			    "enum");
	if (format != NULL && strcmp(format, "json") != 0 && strcmp(format, "dot") != 0)
		req_invalid(r, "query", "format", "must be json or dot", "enum");
	query_int(r, "depth", 0, 1, 1000, depth);
	return req_validation_finish(r);
}

/*
 * GET /api/v1/models/:name/lineage?direction=upstream|downstream|both&depth=N
 * &format=json|dot (viewer): the transitive upstream and downstream models
 * (all depths unless depth is given), with the nodes and the edges between
 * them; format=dot gives the same graph as Graphviz DOT text. 404 for an
 * unknown model.
 */
int api_models_lineage(struct req *r)
{
	const char *name = req_param(r, 0);
	struct lineage_entry *ul = NULL, *dl = NULL;
	size_t nu = 0, nd = 0;
	struct edges es;
	struct dag d;
	struct catalog cat;
	struct db_model_node *m = NULL;
	json_object *o, *nodes, *ups, *downs;
	unsigned char *in;
	int64_t depth;
	int rc, up, down, self;

	if (read_lineage_query(r, &up, &down, &depth))
		return 0;
	if ((rc = db_model_graph(&m, &cat.n, r->db, r->arena, r->who.tenant_id)) < 0)
		return rc;
	cat.m = m;
	if ((self = find_model(&cat, name)) < 0) {
		req_error(r, 404, "not_found", "model %.200s not found", name);
		return 0;
	}
	if ((rc = catalog_dag(&d, &es, &cat, r->arena)) < 0 ||
	    (up && (rc = dag_lineage(&ul, &nu, r->arena, &d, self, 0, (int)depth)) < 0) ||
	    (down && (rc = dag_lineage(&dl, &nd, r->arena, &d, self, 1, (int)depth)) < 0))
		return rc;
	if (req_query(r, "format") != NULL && strcmp(req_query(r, "format"), "dot") == 0)
		return respond_dot(r, &cat, &es, self, ul, nu, dl, nd);
	in = arena_calloc(r->arena, cat.n + 1, 1);
	if (in == NULL)
		return IL_ENOMEM;
	in[self] = 1;
	o = json_object_new_object();
	nodes = json_object_new_array();
	ups = json_object_new_array();
	downs = json_object_new_array();
	{
		json_object *unused = json_object_new_array();

		add_nodes(nodes, unused, in, &cat, &(struct lineage_entry){ self, 0 }, 1, "self");
		json_object_put(unused);
	}
	add_nodes(nodes, ups, in, &cat, ul, nu, "upstream");
	add_nodes(nodes, downs, in, &cat, dl, nd, "downstream");
	json_object_object_add(o, "model_name", json_object_new_string(cat.m[self].name));
	json_object_object_add(o, "model", json_object_new_string(cat.m[self].name));
	json_object_object_add(o, "upstream", ups);
	json_object_object_add(o, "downstream", downs);
	json_object_object_add(o, "nodes", nodes);
	json_object_object_add(o, "edges", edges_within(&cat, &es, in));
	req_json(r, 200, o);
	return 0;
}
