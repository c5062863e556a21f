/* suites.h: the planner's unit test suites and shared helpers */
#ifndef IL_T_CORE_SUITES_H
#define IL_T_CORE_SUITES_H
#include <check.h>
#include <stddef.h>

struct arena;
struct project;
struct diag_list;

Suite *suite_lexer(void);
Suite *suite_model(void);
Suite *suite_project(void);
Suite *suite_plan(void);
Suite *suite_cache(void);
Suite *suite_repo(void);

/* A model file for in-memory projects. */
struct tfile {
	const char *path;
	const char *text;
};

/* A finished project of files (asserts no allocation failure). */
struct project *t_project(struct arena *a, const struct tfile *files,
			  size_t n);
/* All diags as "file:line: error|warning: message\n" lines. */
const char *t_diags(struct arena *a, const struct diag_list *dl);
/* Reads a whole file into a (NULL when missing). */
const char *t_read(struct arena *a, const char *path, size_t *len);
#endif
