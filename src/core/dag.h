/* dag.h: model dependency graph: order, cycles, lineage */
#ifndef IL_DAG_H
#define IL_DAG_H
#include <stddef.h>

struct arena;

/*
 * Nodes are model indices 0..n-1 (sorted by name, so comparing indices
 * compares names). Adjacency in compressed form: the parents (upstreams)
 * of v are parent_idx[parent_off[v] .. parent_off[v + 1]), sorted; the
 * same for children (downstreams).
 */
struct dag {
	size_t n;
	size_t *parent_off;
	int *parent_idx;
	size_t *child_off;
	int *child_idx;
};

/* Edge list input for dag_build: from is the upstream of to. */
struct dag_edge {
	int from;
	int to;
};

/*
 * Builds d from edges (duplicates collapse, self-edges kept so cycles of
 * one are found). Returns 0 or IL_ENOMEM.
 */
int dag_build(struct dag *d, struct arena *a, size_t n, struct dag_edge *edges,
	      size_t n_edges);

/*
 * Topological order of the nodes with in[v] set (all when in is NULL),
 * using only edges between such nodes, ties broken by smallest index.
 * *out gets the order, *n_out its length. Returns 0, IL_EINVALID when those
 * nodes contain a cycle, or IL_ENOMEM.
 */
int dag_topo_order(int **out, size_t *n_out, struct arena *a,
		   const struct dag *d, const unsigned char *in);

/*
 * Finds dependency cycles. For each (at most max), calls fn with the
 * nodes of the cycle in order, v0 refs v1 refs ... refs v0, where v0 is the
 * smallest index not on a cycle reported before. Each node is reported
 * in one cycle at most. Returns the number of cycles reported, or
 * IL_ENOMEM.
 */
typedef void (*dag_cycle_fn)(void *payload, const int *nodes, size_t n);
int dag_find_cycles(const struct dag *d, struct arena *a, size_t max,
		    dag_cycle_fn fn, void *payload);

struct lineage_entry {
	int node;
	int depth;   /* 1 = direct parent/child */
};

/*
 * Transitive upstreams (downstream = 0) or downstreams of start, each at
 * its shortest depth, up to max_depth (0 = unlimited); sorted by depth,
 * then index. start itself is not included. Returns 0 or IL_ENOMEM.
 */
int dag_lineage(struct lineage_entry **out, size_t *n_out, struct arena *a,
		const struct dag *d, int start, int downstream, int max_depth);
#endif
