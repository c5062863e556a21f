/* main.c: runs the planner's unit test suites (src/core, src/repo) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/project.h"
#include "suites.h"
#include "util/arena.h"
#include "util/strbuf.h"

struct project *t_project(struct arena *a, const struct tfile *files, size_t n)
{
	struct project *p;
	size_t i;

	ck_assert_int_eq(project_new(&p, a), 0);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(project_add_file(p, files[i].path, files[i].text,
						  strlen(files[i].text)), 0);
	ck_assert_int_eq(project_finish(p), 0);
	return p;
}

const char *t_diags(struct arena *a, const struct diag_list *dl)
{
	struct strbuf sb;
	size_t i;

	strbuf_init(&sb, a, 1 << 20);
	strbuf_adds(&sb, "");
	for (i = 0; i < dl->n; i++)
		strbuf_addf(&sb, "%s:%u: %s: %s\n", dl->items[i].file,
			    dl->items[i].line,
			    dl->items[i].severity ? "warning" : "error",
			    dl->items[i].message);
	return strbuf_cstr(&sb);
}

const char *t_read(struct arena *a, const char *path, size_t *len)
{
	struct strbuf sb;
	char buf[4096];
	size_t n;
	FILE *f = fopen(path, "rb");

	if (f == NULL)
		return NULL;
	strbuf_init(&sb, a, 64 << 20);
	strbuf_adds(&sb, "");
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&sb, buf, n);
	fclose(f);
	if (len)
		*len = sb.len;
	return strbuf_cstr(&sb);
}

int main(void)
{
	Suite *(*const suites[])(void) = {
		suite_lexer, suite_model, suite_project, suite_plan, suite_cache,
		suite_repo,
	};
	SRunner *sr = srunner_create(suites[0]());
	size_t i;
	int failed;

	for (i = 1; i < sizeof(suites) / sizeof(suites[0]); i++)
		srunner_add_suite(sr, suites[i]());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
