/* header.h: parsers for model header values (lists, tests, contracts) */
#ifndef IL_HEADER_H
#define IL_HEADER_H
#include <stddef.h>

struct arena;
struct str_list;

/*
 * Splits v on commas (outside parentheses when paren_aware), trims each
 * item and drops empty ones. Returns 0, IL_ETOOBIG past IL_MAX_LIST_ITEMS,
 * or IL_ENOMEM.
 */
int header_split_list(struct str_list *out, struct arena *a, const char *v,
		      int paren_aware);

/* Sorts a list in byte order and drops duplicates. */
void header_sort_unique(struct str_list *l);

/*
 * `tests` header: `type(arg)[@BLOCK|@WARN], ...` into normalized
 * "type(arg)@SEVERITY" items, sorted. On IL_EINVALID *err says why.
 */
int header_parse_tests(struct str_list *out, struct arena *a, const char *v,
		       const char **err);

/*
 * `contract_columns` header: `name:TYPE[:NOT_NULL], ...` (commas inside
 * parentheses, as in DECIMAL(10,2), do not split) into "name:TYPE" or
 * "name:TYPE:NOT_NULL" items in the order written. IL_EINVALID sets *err.
 */
int header_parse_contract_columns(struct str_list *out, struct arena *a,
				  const char *v, const char **err);

/* Trims ASCII whitespace from both ends of [*s, *s + *n). */
void header_trim(const char **s, size_t *n);
#endif
