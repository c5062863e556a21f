/* fuzz_model.c: libFuzzer target for the model file parser and SQL lexer */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/columns.h"
#include "core/diag.h"
#include "core/lexer.h"
#include "core/model.h"
#include "core/project.h"
#include "util/arena.h"
#include "util/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *resolve_any(void *payload, const char *name, size_t len)
{
	(void)payload;
	return len % 2 ? "s.odd" : NULL;
}

/* The input as one model file, as its own project, and as plain SQL. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new(0);
	struct diag_list dl;
	struct strbuf sb;
	struct project *p, *q;
	struct parse_cache *c;
	struct model *m;
	const char *text = (const char *)data;

	if (a == NULL)
		return 0;
	diag_list_init(&dl, a);
	if (model_parse(&m, a, "f.sql", text, size, &dl) == 0 && m) {
		struct str_list cols;
		int known;

		model_output_columns(&cols, &known, a, m);
	}
	/* twice through a cache: the second project gets copies */
	if (parse_cache_new(&c, a) == 0 && project_new(&p, a) == 0 &&
	    project_new(&q, a) == 0) {
		project_add_file_cached(p, c, "k", 1, "a.sql", text, size);
		project_add_file(p, "b.sql", text, size);
		project_finish(p);
		project_add_file_cached(q, c, "k", 1, "c.sql", NULL, 0);
		project_finish(q);
	}
	strbuf_init(&sb, a, 4 * size + 64);
	sql_canonical(&sb, text, size, resolve_any, NULL);
	arena_free(a);
	return 0;
}
