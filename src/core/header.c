/* header.c: parsers for model header values (lists, tests, contracts) */
#include "core/header.h"

#include <stdlib.h>
#include <string.h>

#include "core/model.h"
#include "util/arena.h"
#include "util/error.h"
#include "util/limits.h"
#include "util/parse.h"

static const char *const test_types[] = {
	"accepted_values", "custom_sql", "not_null", "row_count_max",
	"row_count_min", "unique",
};

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
	       c == '\f';
}

void header_trim(const char **s, size_t *n)
{
	while (*n && is_ws(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && is_ws((*s)[*n - 1]))
		(*n)--;
}

static int push(struct str_list *l, size_t *cap, struct arena *a,
		const char *s, size_t n)
{
	const char *item;

	if (l->n == IL_MAX_LIST_ITEMS)
		return IL_ETOOBIG;
	if (l->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		const char **items = arena_calloc(a, ncap, sizeof(*items));

		if (items == NULL)
			return IL_ENOMEM;
		if (l->n)
			memcpy(items, l->items, l->n * sizeof(*items));
		l->items = items;
		*cap = ncap;
	}
	item = arena_strndup(a, s, n);
	if (item == NULL)
		return IL_ENOMEM;
	l->items[l->n++] = item;
	return 0;
}

int header_split_list(struct str_list *out, struct arena *a, const char *v,
		      int paren_aware)
{
	size_t cap = 0, start = 0, i, n = strlen(v);
	int depth = 0, rc;

	out->items = NULL;
	out->n = 0;
	for (i = 0; i <= n; i++) {
		const char *s;
		size_t len;

		if (i < n && paren_aware && v[i] == '(')
			depth++;
		else if (i < n && paren_aware && v[i] == ')' && depth > 0)
			depth--;
		if (i < n && (v[i] != ',' || depth > 0))
			continue;
		s = v + start;
		len = i - start;
		start = i + 1;
		header_trim(&s, &len);
		if (len && (rc = push(out, &cap, a, s, len)) < 0)
			return rc;
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void header_sort_unique(struct str_list *l)
{
	size_t i, k = 0;

	if (l->n < 2)
		return;
	qsort(l->items, l->n, sizeof(*l->items), cmp_str);
	for (i = 0; i < l->n; i++)
		if (k == 0 || strcmp(l->items[k - 1], l->items[i]) != 0)
			l->items[k++] = l->items[i];
	l->n = k;
}

static void ascii_case(char *s, int up)
{
	for (; *s; s++) {
		if (up && *s >= 'a' && *s <= 'z')
			*s = (char)(*s - 'a' + 'A');
		else if (!up && *s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
	}
}

/* A trimmed, case-folded copy of [s, s + n). */
static char *trimmed(struct arena *a, const char *s, size_t n, int fold)
{
	char *r;

	header_trim(&s, &n);
	r = arena_strndup(a, s, n);
	if (r && fold)
		ascii_case(r, fold > 0);
	return r;
}

static int known_test_type(const char *t)
{
	size_t i;

	for (i = 0; i < sizeof(test_types) / sizeof(test_types[0]); i++)
		if (strcmp(t, test_types[i]) == 0)
			return 1;
	return 0;
}

/* accepted_values(col:v1|v2) → "col:v1|v2" with values sorted. */
static int norm_accepted(char **out, struct arena *a, const char *arg,
			 const char **err)
{
	const char *colon = strchr(arg, ':');
	struct str_list vals;
	size_t i, cap = 0, start;
	char *col, *res;
	int rc;

	if (colon == NULL || colon == arg)
		goto bad;
	col = trimmed(a, arg, (size_t)(colon - arg), 0);
	if (col == NULL)
		return IL_ENOMEM;
	if (*col == '\0')
		goto bad;
	vals.items = NULL;
	vals.n = 0;
	for (start = 0, i = 0;; i++) {
		const char *s = colon + 1 + start;
		size_t n;

		if (colon[1 + i] != '|' && colon[1 + i] != '\0')
			continue;
		n = i - start;
		header_trim(&s, &n);
		if (n && (rc = push(&vals, &cap, a, s, n)) < 0)
			return rc;
		start = i + 1;
		if (colon[1 + i] == '\0')
			break;
	}
	if (vals.n == 0)
		goto bad;
	header_sort_unique(&vals);
	res = arena_printf(a, "%s:", col);
	for (i = 0; res && i < vals.n; i++)
		res = arena_printf(a, "%s%s%s", res, i ? "|" : "", vals.items[i]);
	if (res == NULL)
		return IL_ENOMEM;
	*out = res;
	return 0;
bad:
	*err = arena_printf(a, "accepted_values needs 'column:value1|value2', "
			    "got '%s'", arg);
	return IL_EINVALID;
}

/* Checks arg for type and writes the normalized argument. */
static int norm_test_arg(char **out, struct arena *a, const char *type,
			 char *arg, const char **err)
{
	int64_t v;

	*out = arg;
	if (*arg == '\0') {
		*err = arena_printf(a, "test '%s' needs an argument", type);
		return IL_EINVALID;
	}
	if (strcmp(type, "row_count_min") == 0 ||
	    strcmp(type, "row_count_max") == 0) {
		if (parse_i64(arg, 0, INT64_MAX, &v) < 0) {
			*err = arena_printf(a, "test '%s' needs a whole number, "
					    "got '%s'", type, arg);
			return IL_EINVALID;
		}
		return 0;
	}
	if (strcmp(type, "accepted_values") == 0)
		return norm_accepted(out, a, arg, err);
	return 0;
}

/* Splits "decl@SEV" at the last ")@"; *sev is BLOCK or WARN. */
static int split_severity(char *decl, const char **sev, struct arena *a,
			  const char **err)
{
	char *at = NULL, *p;
	char *s;

	*sev = "BLOCK";
	for (p = decl; (p = strstr(p, ")@")) != NULL; p++)
		at = p;
	if (at == NULL)
		return 0;
	s = trimmed(a, at + 2, strlen(at + 2), 1);
	if (s == NULL)
		return IL_ENOMEM;
	if (strcmp(s, "BLOCK") != 0 && strcmp(s, "WARN") != 0) {
		*err = arena_printf(a, "invalid test severity '%s' in '%s': "
				    "expected BLOCK or WARN", s, decl);
		return IL_EINVALID;
	}
	at[1] = '\0';
	*sev = s;
	return 0;
}

static int parse_test(const char **out, struct arena *a, const char *item,
		      const char **err)
{
	char *decl = arena_strdup(a, item), *open, *type, *arg, *narg;
	const char *sev;
	size_t n;
	int rc;

	if (decl == NULL)
		return IL_ENOMEM;
	if ((rc = split_severity(decl, &sev, a, err)) < 0)
		return rc;
	n = strlen(decl);
	open = strchr(decl, '(');
	if (open == NULL || n == 0 || decl[n - 1] != ')') {
		*err = arena_printf(a, "invalid test '%s': expected "
				    "type(argument)", item);
		return IL_EINVALID;
	}
	type = trimmed(a, decl, (size_t)(open - decl), -1);
	arg = trimmed(a, open + 1, (size_t)(decl + n - 1 - (open + 1)), 0);
	if (type == NULL || arg == NULL)
		return IL_ENOMEM;
	if (!known_test_type(type)) {
		*err = arena_printf(a, "unknown test type '%s': expected "
				    "accepted_values, custom_sql, not_null, "
				    "row_count_max, row_count_min or unique",
				    type);
		return IL_EINVALID;
	}
	if ((rc = norm_test_arg(&narg, a, type, arg, err)) < 0)
		return rc;
	*out = arena_printf(a, "%s(%s)@%s", type, narg, sev);
	return *out ? 0 : IL_ENOMEM;
}

int header_parse_tests(struct str_list *out, struct arena *a, const char *v,
		       const char **err)
{
	size_t i;
	int rc;

	if ((rc = header_split_list(out, a, v, 1)) < 0)
		return rc;
	for (i = 0; i < out->n; i++)
		if ((rc = parse_test(&out->items[i], a, out->items[i], err)) < 0)
			return rc;
	header_sort_unique(out);
	return 0;
}

static int parse_column(const char **out, struct arena *a, const char *item,
			const char **err)
{
	const char *c1 = strchr(item, ':'), *c2;
	char *name, *type, *flag;

	if (c1 == NULL)
		goto bad;
	c2 = strchr(c1 + 1, ':');
	name = trimmed(a, item, (size_t)(c1 - item), 0);
	type = trimmed(a, c1 + 1, c2 ? (size_t)(c2 - c1 - 1) : strlen(c1 + 1),
		       1);
	flag = trimmed(a, c2 ? c2 + 1 : "", c2 ? strlen(c2 + 1) : 0, 1);
	if (name == NULL || type == NULL || flag == NULL)
		return IL_ENOMEM;
	if (*name == '\0' || *type == '\0')
		goto bad;
	if (*flag != '\0' && strcmp(flag, "NOT_NULL") != 0)
		goto bad;
	*out = arena_printf(a, "%s:%s%s", name, type,
			    *flag ? ":NOT_NULL" : "");
	return *out ? 0 : IL_ENOMEM;
bad:
	*err = arena_printf(a, "invalid contract column '%s': expected "
			    "name:TYPE or name:TYPE:NOT_NULL", item);
	return IL_EINVALID;
}

int header_parse_contract_columns(struct str_list *out, struct arena *a,
				  const char *v, const char **err)
{
	size_t i;
	int rc;

	if ((rc = header_split_list(out, a, v, 1)) < 0)
		return rc;
	for (i = 0; i < out->n; i++)
		if ((rc = parse_column(&out->items[i], a, out->items[i],
				       err)) < 0)
			return rc;
	return 0;
}
