/* lint.c: SQL lint rules behind the advisory's suggestions (core lexer only) */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "advise/advise.h"
#include "advise/tokens.h"
#include "core/lexer.h"
#include "core/model.h"
#include "util/arena.h"
#include "util/error.h"

struct findings {
	struct advise_finding *items;
	size_t n;
};

static void add(struct findings *f, const char *rule, const char *message, unsigned line)
{
	if (f->n >= ADVISE_MAX_FINDINGS)
		return;
	f->items[f->n].rule = rule;
	f->items[f->n].message = message;
	f->items[f->n].line = line;
	f->n++;
}

/* SELECT * or SELECT t.* (not COUNT(*) nor a * b). */
static void rule_select_star(struct findings *f, const struct tokens *t)
{
	size_t i;

	for (i = 1; i < t->n; i++) {
		const struct token *k = &t->tok[i], *p = &t->tok[i - 1];

		if (!tok_is_op(k, "*"))
			continue;
		if (tok_is(p, "SELECT") || tok_is(p, "DISTINCT") ||
		    (tok_is_op(p, ".") && i >= 3 &&
		     (tok_is(&t->tok[i - 3], "SELECT") || tok_is_op(&t->tok[i - 3], ",") ||
		      tok_is(&t->tok[i - 3], "DISTINCT"))))
			add(f, "select_star", "SELECT * reads every column and breaks when an "
			    "upstream adds one; list the columns the model needs", k->line);
	}
}

static void rule_cross_join(struct findings *f, const struct tokens *t)
{
	size_t i;

	for (i = 0; i + 1 < t->n; i++)
		if (tok_is(&t->tok[i], "CROSS") && tok_is(&t->tok[i + 1], "JOIN"))
			add(f, "cross_join", "CROSS JOIN multiplies the row counts of both "
			    "sides; join on a key unless the product is intended", t->tok[i].line);
}

/* The index of the "(" that encloses token i, or (size_t)-1. */
static size_t opening_paren(const struct tokens *t, size_t i)
{
	size_t j = i;

	while (j-- > 0)
		if (tok_is_op(&t->tok[j], "(") && t->depth[j] == t->depth[i] - 1)
			return j;
	return (size_t)-1;
}

/* ORDER BY inside a subquery with no LIMIT/FETCH/TOP at the same level. */
static void rule_order_by_subquery(struct findings *f, const struct tokens *t)
{
	size_t i, j, open;
	int limited;

	for (i = 0; i + 1 < t->n; i++) {
		if (!tok_is(&t->tok[i], "ORDER") || !tok_is(&t->tok[i + 1], "BY") ||
		    t->depth[i] == 0)
			continue;
		open = opening_paren(t, i);
		if (open == (size_t)-1 || open + 1 >= t->n ||
		    !(tok_is(&t->tok[open + 1], "SELECT") || tok_is(&t->tok[open + 1], "WITH")))
			continue; /* a window, WITHIN GROUP or aggregate ORDER BY */
		limited = 0;
		for (j = i + 2; j < t->n && t->depth[j] >= t->depth[i]; j++)
			if (t->depth[j] == t->depth[i] &&
			    (tok_is(&t->tok[j], "LIMIT") || tok_is(&t->tok[j], "FETCH") ||
			     tok_is(&t->tok[j], "TOP") || tok_is(&t->tok[j], "OFFSET")))
				limited = 1;
		if (!limited)
			add(f, "order_by_in_subquery", "ORDER BY in a subquery without LIMIT "
			    "sorts rows the outer query does not keep in order; drop it",
			    t->tok[i].line);
	}
}

static void rule_not_in_subquery(struct findings *f, const struct tokens *t)
{
	size_t i;

	for (i = 0; i + 3 < t->n; i++)
		if (tok_is(&t->tok[i], "NOT") && tok_is(&t->tok[i + 1], "IN") &&
		    tok_is_op(&t->tok[i + 2], "(") && tok_is(&t->tok[i + 3], "SELECT"))
			add(f, "not_in_subquery", "NOT IN with a subquery returns no rows when "
			    "the subquery yields a NULL and plans poorly; use NOT EXISTS",
			    t->tok[i].line);
}

static int is_date_function(const struct token *k)
{
	static const char *const fns[] = {
		"DATE", "YEAR", "MONTH", "DAY", "DATE_TRUNC", "TRUNC", "CAST", "EXTRACT",
		"TO_CHAR", "TO_DATE", "DATE_FORMAT", "DATE_PART", "DATEPART", "FORMAT_DATE",
		"CONVERT"
	};
	size_t i;

	for (i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)
		if (tok_is(k, fns[i]))
			return 1;
	return 0;
}

static int is_comparison(const struct token *k)
{
	return tok_is_op(k, "=") || tok_is_op(k, "<") || tok_is_op(k, ">") ||
	       tok_is_op(k, "<=") || tok_is_op(k, ">=") || tok_is_op(k, "<>") ||
	       tok_is_op(k, "!=") || tok_is(k, "BETWEEN");
}

/* A column wrapped in a date function in a filter: the index cannot be used. */
static void rule_non_sargable(struct findings *f, const struct tokens *t)
{
	size_t i, close;

	for (i = 1; i + 1 < t->n; i++) {
		const struct token *p = &t->tok[i - 1];

		if (!is_date_function(&t->tok[i]) || !tok_is_op(&t->tok[i + 1], "("))
			continue;
		if (!(tok_is(p, "WHERE") || tok_is(p, "AND") || tok_is(p, "OR") ||
		      tok_is(p, "ON") || tok_is(p, "NOT") || tok_is(p, "HAVING")))
			continue;
		close = tokens_matching_paren(t, i + 1);
		if (close + 1 >= t->n || !is_comparison(&t->tok[close + 1]) ||
		    !tokens_has_column(t, i + 2, close))
			continue;
		add(f, "non_sargable_date_filter", "a date function wraps the column in this "
		    "filter, so no index or partition pruning applies; compare the bare "
		    "column with a range instead", t->tok[i].line);
	}
}

/* 1 when token k names the column col (unquoted or "quoted"). */
static int is_column(const struct token *k, const char *col)
{
	size_t n = strlen(col), i;
	const char *p = k->p;
	size_t len = k->len;

	if (k->kind == TOK_QIDENT && len >= 2) {
		p++;
		len -= 2;
	} else if (k->kind != TOK_WORD) {
		return 0;
	}
	if (len != n)
		return 0;
	for (i = 0; i < n; i++)
		if (tolower((unsigned char)p[i]) != tolower((unsigned char)col[i]))
			return 0;
	return 1;
}

static int ends_where(const struct token *k)
{
	return tok_is(k, "GROUP") || tok_is(k, "ORDER") || tok_is(k, "HAVING") ||
	       tok_is(k, "LIMIT") || tok_is(k, "UNION") || tok_is(k, "QUALIFY") ||
	       tok_is(k, "WINDOW") || tok_is(k, "EXCEPT") || tok_is(k, "INTERSECT");
}

/* 1 when the time column appears in some WHERE clause of the SQL. */
static int filters_on(const struct tokens *t, const char *col)
{
	size_t i;
	long where_depth = -1;

	for (i = 0; i < t->n; i++) {
		const struct token *k = &t->tok[i];

		if (where_depth >= 0 && (t->depth[i] < where_depth ||
					 (t->depth[i] == where_depth && ends_where(k))))
			where_depth = -1;
		if (tok_is(k, "WHERE"))
			where_depth = t->depth[i];
		else if (where_depth >= 0 && is_column(k, col))
			return 1;
	}
	return 0;
}

static void rule_incremental_time_filter(struct findings *f, const struct tokens *t,
					 const struct model *m)
{
	if (!model_kind_incremental(m->kind) || m->time_column == NULL ||
	    filters_on(t, m->time_column))
		return;
	add(f, "incremental_without_time_filter", "this incremental model never filters "
	    "on its time_column, so every interval rescans the whole source; add "
	    "WHERE <time_column> >= {{ start_date }} AND < {{ end_date }}", m->name_line);
}

/* Source order: by line, then by rule id. */
static int by_line(const void *x, const void *y)
{
	const struct advise_finding *a = x, *b = y;

	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	return strcmp(a->rule, b->rule);
}

int advise_lint(struct advise_finding **out, size_t *n, struct arena *a,
		const struct model *m)
{
	struct tokens t;
	struct findings f = { NULL, 0 };
	int rc;

	*out = NULL;
	*n = 0;
	rc = tokens_read(&t, a, m->body, m->body_len, m->body_line);
	if (rc == IL_EINVALID)
		return 0;
	if (rc < 0)
		return rc;
	f.items = arena_calloc(a, ADVISE_MAX_FINDINGS, sizeof(*f.items));
	if (f.items == NULL)
		return IL_ENOMEM;
	rule_select_star(&f, &t);
	rule_cross_join(&f, &t);
	rule_order_by_subquery(&f, &t);
	rule_not_in_subquery(&f, &t);
	rule_non_sargable(&f, &t);
	rule_incremental_time_filter(&f, &t, m);
	qsort(f.items, f.n, sizeof(*f.items), by_line);
	*out = f.items;
	*n = f.n;
	return 0;
}
