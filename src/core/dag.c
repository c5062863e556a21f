/* dag.c: model dependency graph: order, cycles, lineage */
#include "core/dag.h"

#include <stdlib.h>
#include <string.h>

#include "util/arena.h"
#include "util/error.h"

static int int_cmp(const void *pa, const void *pb)
{
	int a = *(const int *)pa, b = *(const int *)pb;

	return a < b ? -1 : a > b;
}

/* Sorts one node's few parents (insertion sort; qsort past a handful). */
static void sort_small(int *v, size_t n)
{
	size_t i, j;

	if (n > 16) {
		qsort(v, n, sizeof(*v), int_cmp);
		return;
	}
	for (i = 1; i < n; i++) {
		int x = v[i];

		for (j = i; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

/*
 * Parents by a counting sort on `to`, each node's list sorted and without
 * duplicates; n_edges and the offsets shrink accordingly. Linear in the
 * edges (a sort of all edges was the largest part of building the DAG).
 */
static size_t fill_parents(struct dag *d, const struct dag_edge *e,
			   size_t ne, size_t *pos)
{
	size_t v, k, out = 0, n = d->n;

	for (k = 0; k < ne; k++)
		d->parent_off[e[k].to + 1]++;
	for (v = 0; v < n; v++)
		d->parent_off[v + 1] += d->parent_off[v];
	memcpy(pos, d->parent_off, n * sizeof(*pos));
	for (k = 0; k < ne; k++)
		d->parent_idx[pos[e[k].to]++] = e[k].from;
	for (v = 0; v < n; v++) {
		size_t lo = d->parent_off[v], hi = d->parent_off[v + 1];

		sort_small(d->parent_idx + lo, hi - lo);
		d->parent_off[v] = out;
		for (k = lo; k < hi; k++)
			if (k == lo || d->parent_idx[k] != d->parent_idx[k - 1])
				d->parent_idx[out++] = d->parent_idx[k];
	}
	d->parent_off[n] = out;
	return out;
}

/* Children from the parent lists: visiting nodes in order sorts them. */
static void fill_children(struct dag *d, size_t ne, size_t *pos)
{
	size_t v, k, n = d->n;

	for (k = 0; k < ne; k++)
		d->child_off[d->parent_idx[k] + 1]++;
	for (v = 0; v < n; v++)
		d->child_off[v + 1] += d->child_off[v];
	memcpy(pos, d->child_off, n * sizeof(*pos));
	for (v = 0; v < n; v++)
		for (k = d->parent_off[v]; k < d->parent_off[v + 1]; k++)
			d->child_idx[pos[d->parent_idx[k]]++] = (int)v;
}

int dag_build(struct dag *d, struct arena *a, size_t n, struct dag_edge *edges,
	      size_t n_edges)
{
	size_t *pos = arena_alloc(a, (n + 1) * sizeof(*pos));

	d->n = n;
	d->parent_off = arena_calloc(a, n + 1, sizeof(size_t));
	d->child_off = arena_calloc(a, n + 1, sizeof(size_t));
	d->parent_idx = arena_alloc(a, (n_edges + 1) * sizeof(int));
	d->child_idx = arena_alloc(a, (n_edges + 1) * sizeof(int));
	if (!pos || !d->parent_off || !d->child_off || !d->parent_idx ||
	    !d->child_idx)
		return IL_ENOMEM;
	n_edges = fill_parents(d, edges, n_edges, pos);
	fill_children(d, n_edges, pos);
	return 0;
}

/* A binary min-heap of node indices. */
struct heap {
	int *v;
	size_t n;
};

static void heap_push(struct heap *h, int x)
{
	size_t i = h->n++;

	while (i > 0 && h->v[(i - 1) / 2] > x) {
		h->v[i] = h->v[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h->v[i] = x;
}

static int heap_pop(struct heap *h)
{
	int top = h->v[0], last = h->v[--h->n];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->v[c + 1] < h->v[c])
			c++;
		if (h->v[c] >= last)
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n)
		h->v[i] = last;
	return top;
}

#define IN(in, v) ((in) == NULL || (in)[v])

int dag_topo_order(int **out, size_t *n_out, struct arena *a,
		   const struct dag *d, const unsigned char *in)
{
	size_t *indeg = arena_calloc(a, d->n + 1, sizeof(size_t));
	int *order = arena_calloc(a, d->n + 1, sizeof(int));
	struct heap h = { arena_calloc(a, d->n + 1, sizeof(int)), 0 };
	size_t v, k, total = 0, n = 0;

	if (indeg == NULL || order == NULL || h.v == NULL)
		return IL_ENOMEM;
	for (v = 0; v < d->n; v++) {
		if (!IN(in, v))
			continue;
		total++;
		for (k = d->parent_off[v]; k < d->parent_off[v + 1]; k++)
			if (IN(in, d->parent_idx[k]))
				indeg[v]++;
		if (indeg[v] == 0)
			heap_push(&h, (int)v);
	}
	while (h.n) {
		int u = heap_pop(&h);

		order[n++] = u;
		for (k = d->child_off[u]; k < d->child_off[u + 1]; k++) {
			int c = d->child_idx[k];

			if (IN(in, c) && --indeg[c] == 0)
				heap_push(&h, c);
		}
	}
	*out = order;
	*n_out = n;
	return n == total ? 0 : IL_EINVALID;
}

/* Clears alive[] for nodes not on a cycle path: no live parent or child. */
static void peel(const struct dag *d, unsigned char *alive, size_t *deg,
		 int *queue, int forward)
{
	const size_t *in_off = forward ? d->parent_off : d->child_off;
	const size_t *out_off = forward ? d->child_off : d->parent_off;
	const int *out_idx = forward ? d->child_idx : d->parent_idx;
	size_t v, k, head = 0, tail = 0;
	const int *in_idx = forward ? d->parent_idx : d->child_idx;

	for (v = 0; v < d->n; v++) {
		deg[v] = 0;
		if (!alive[v])
			continue;
		for (k = in_off[v]; k < in_off[v + 1]; k++)
			deg[v] += alive[in_idx[k]];
		if (deg[v] == 0)
			queue[tail++] = (int)v;
	}
	while (head < tail) {
		int u = queue[head++];

		alive[u] = 0;
		for (k = out_off[u]; k < out_off[u + 1]; k++) {
			int c = out_idx[k];

			if (alive[c] && --deg[c] == 0)
				queue[tail++] = c;
		}
	}
}

struct cycle_ctx {
	const struct dag *d;
	const unsigned char *alive;
	int *stamp;
	int *from;
	int *queue;
	int *path;
};

/* Shortest cycle through v along parent edges; its length, or 0. */
static size_t shortest_cycle(struct cycle_ctx *cx, int v)
{
	const struct dag *d = cx->d;
	size_t head = 0, tail = 0, k, n = 0;
	int u, end = -1;

	cx->queue[tail++] = v;
	cx->stamp[v] = v + 1;
	while (head < tail && end < 0) {
		u = cx->queue[head++];
		for (k = d->parent_off[u]; k < d->parent_off[u + 1]; k++) {
			int p = d->parent_idx[k];

			if (p == v) {
				end = u;
				break;
			}
			if (!cx->alive[p] || cx->stamp[p] == v + 1)
				continue;
			cx->stamp[p] = v + 1;
			cx->from[p] = u;
			cx->queue[tail++] = p;
		}
	}
	if (end < 0)
		return 0;
	for (u = end; u != v; u = cx->from[u])
		cx->path[n++] = u;
	cx->path[n++] = v;
	for (k = 0; k < n / 2; k++) {
		int t = cx->path[k];

		cx->path[k] = cx->path[n - 1 - k];
		cx->path[n - 1 - k] = t;
	}
	return n;
}

int dag_find_cycles(const struct dag *d, struct arena *a, size_t max,
		    dag_cycle_fn fn, void *payload)
{
	unsigned char *alive = arena_calloc(a, d->n + 1, 1);
	unsigned char *done = arena_calloc(a, d->n + 1, 1);
	size_t *deg = arena_calloc(a, d->n + 1, sizeof(size_t));
	struct cycle_ctx cx;
	size_t v, k, len, found = 0, starts = 0;

	cx.d = d;
	cx.alive = alive;
	cx.stamp = arena_calloc(a, d->n + 1, sizeof(int));
	cx.from = arena_calloc(a, d->n + 1, sizeof(int));
	cx.queue = arena_calloc(a, d->n + 1, sizeof(int));
	cx.path = arena_calloc(a, d->n + 1, sizeof(int));
	if (!alive || !done || !deg || !cx.stamp || !cx.from || !cx.queue ||
	    !cx.path)
		return IL_ENOMEM;
	memset(alive, 1, d->n);
	peel(d, alive, deg, cx.queue, 1);
	peel(d, alive, deg, cx.queue, 0);
	/* bounded work: a pathological graph is reported in part */
	for (v = 0; v < d->n && found < max && starts < 8 * max + 64; v++) {
		if (!alive[v] || done[v])
			continue;
		starts++;
		len = shortest_cycle(&cx, (int)v);
		if (len == 0)
			continue;
		for (k = 0; k < len; k++)
			done[cx.path[k]] = 1;
		fn(payload, cx.path, len);
		found++;
	}
	return (int)found;
}

static int lineage_cmp(const void *pa, const void *pb)
{
	const struct lineage_entry *a = pa, *b = pb;

	if (a->depth != b->depth)
		return a->depth < b->depth ? -1 : 1;
	return a->node < b->node ? -1 : a->node > b->node;
}

int dag_lineage(struct lineage_entry **out, size_t *n_out, struct arena *a,
		const struct dag *d, int start, int downstream, int max_depth)
{
	const size_t *off = downstream ? d->child_off : d->parent_off;
	const int *idx = downstream ? d->child_idx : d->parent_idx;
	int *depth = arena_calloc(a, d->n + 1, sizeof(int));
	struct lineage_entry *res = arena_calloc(a, d->n + 1, sizeof(*res));
	size_t head = 0, tail = 0, k;

	if (depth == NULL || res == NULL)
		return IL_ENOMEM;
	depth[start] = -1;
	res[tail].node = start;
	res[tail++].depth = 0;
	while (head < tail) {
		struct lineage_entry cur = res[head++];

		if (max_depth > 0 && cur.depth >= max_depth)
			continue;
		for (k = off[cur.node]; k < off[cur.node + 1]; k++) {
			int x = idx[k];

			if (depth[x] != 0)
				continue;
			depth[x] = cur.depth + 1;
			res[tail].node = x;
			res[tail++].depth = cur.depth + 1;
		}
	}
	/* drop start itself (entry 0) */
	*out = res + 1;
	*n_out = tail - 1;
	if (*n_out > 1)
		qsort(*out, *n_out, sizeof(**out), lineage_cmp);
	return 0;
}
