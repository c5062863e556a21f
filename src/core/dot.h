/* dot.h: a model graph as Graphviz DOT text (no I/O) */
#ifndef IL_DOT_H
#define IL_DOT_H

#include <stddef.h>

#include "core/dag.h"

struct arena;

/*
 * A digraph of the nodes named names[0..n) (node i is names[i]) with an
 * edge from each edge's upstream to its downstream, left to right; the node
 * focus (-1 for none) is drawn bold. Names are quoted and escaped, so any
 * name is safe. Nodes and edges come out in the order given, so the same
 * input gives the same text. 0 or IL_ENOMEM.
 */
int dot_graph(const char **out, struct arena *a, const char *const *names, size_t n,
	      int focus, const struct dag_edge *edges, size_t n_edges);

#endif
