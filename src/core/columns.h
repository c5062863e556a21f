/* columns.h: the output columns of a model's query, when they can be named */
#ifndef IL_COLUMNS_H
#define IL_COLUMNS_H

struct arena;
struct model;
struct str_list;

/*
 * Names of the columns the body's top-level SELECT list produces (the first
 * branch of a UNION): `expr AS x` and `expr x` give x, `t.c` and `c` give
 * c; unquoted names lower-cased, quoted ones without their quotes.
 * *known is 0 when some column cannot be named (`*`, an unaliased
 * expression) or the body does not lex: the list is then not the whole
 * output. Returns 0 or IL_ENOMEM.
 */
int model_output_columns(struct str_list *out, int *known, struct arena *a,
			 const struct model *m);
#endif
