/* dot.c: a model graph as Graphviz DOT text */
#include "core/dot.h"

#include <string.h>

#include "util/arena.h"
#include "util/error.h"
#include "util/strbuf.h"

/* A DOT quoted ID: backslash and double quote escaped, line breaks as \n. */
static void add_id(struct strbuf *sb, const char *s)
{
	strbuf_addc(sb, '"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			strbuf_addc(sb, '\\');
		if (*s == '\n' || *s == '\r')
			strbuf_adds(sb, "\\n");
		else
			strbuf_addc(sb, *s);
	}
	strbuf_addc(sb, '"');
}

int dot_graph(const char **out, struct arena *a, const char *const *names, size_t n,
	      int focus, const struct dag_edge *edges, size_t n_edges)
{
	struct strbuf sb;
	size_t i;

	strbuf_init(&sb, a, (size_t)1 << 26);
	strbuf_adds(&sb, "digraph lineage {\n  rankdir=LR;\n  node [shape=box];\n");
	for (i = 0; i < n; i++) {
		strbuf_adds(&sb, "  ");
		add_id(&sb, names[i]);
		strbuf_adds(&sb, (int)i == focus ? " [style=bold];\n" : ";\n");
	}
	for (i = 0; i < n_edges; i++) {
		if (edges[i].from < 0 || (size_t)edges[i].from >= n || edges[i].to < 0 ||
		    (size_t)edges[i].to >= n)
			continue;
		strbuf_adds(&sb, "  ");
		add_id(&sb, names[edges[i].from]);
		strbuf_adds(&sb, " -> ");
		add_id(&sb, names[edges[i].to]);
		strbuf_adds(&sb, ";\n");
	}
	strbuf_adds(&sb, "}\n");
	*out = strbuf_cstr(&sb);
	return *out != NULL ? 0 : IL_ENOMEM;
}
