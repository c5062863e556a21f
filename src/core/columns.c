/* columns.c: the output columns of a model's query, when they can be named */
#include "core/columns.h"

#include <string.h>

#include "core/lexer.h"
#include "core/model.h"
#include "util/arena.h"
#include "util/error.h"
#include "util/limits.h"

/* One item of the select list: its last two tokens and its length. */
struct item {
	struct token last;
	struct token before_last;
	size_t n_tokens;
	int has_star;
};

static int ends_list(const struct token *t)
{
	return tok_is(t, "FROM") || tok_is(t, "UNION") || tok_is(t, "EXCEPT") ||
	       tok_is(t, "INTERSECT") || tok_is(t, "WHERE") ||
	       tok_is(t, "GROUP") || tok_is(t, "ORDER") || tok_is(t, "LIMIT") ||
	       tok_is_op(t, ";");
}

static int is_name(const struct token *t)
{
	return t->kind == TOK_QIDENT ||
	       (t->kind == TOK_WORD && !sql_is_keyword(t->p, t->len));
}

/* The column an item names, or NULL when it has no stable name. */
static const char *item_name(struct arena *a, const struct item *it)
{
	const struct token *t = &it->last;
	char *s;
	size_t i;

	if (it->has_star || !is_name(t))
		return NULL;
	/* c; t.c; expr AS c; expr c (an implicit alias) */
	if (it->n_tokens > 1 && !tok_is(&it->before_last, "AS") &&
	    !tok_is_op(&it->before_last, ".") && !is_name(&it->before_last) &&
	    !tok_is_op(&it->before_last, ")") &&
	    it->before_last.kind != TOK_NUMBER &&
	    it->before_last.kind != TOK_STRING)
		return NULL;
	if (t->kind == TOK_QIDENT)
		return arena_strndup(a, t->p + 1, t->len - 2);
	s = arena_strndup(a, t->p, t->len);
	for (i = 0; s && s[i]; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			s[i] = (char)(s[i] - 'A' + 'a');
	return s;
}

static int push_name(struct str_list *out, size_t *cap, struct arena *a,
		     const char *name)
{
	if (out->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		const char **items = arena_calloc(a, ncap, sizeof(*items));

		if (items == NULL)
			return IL_ENOMEM;
		if (out->n)
			memcpy(items, out->items, out->n * sizeof(*items));
		out->items = items;
		*cap = ncap;
	}
	out->items[out->n++] = name;
	return 0;
}

/* Finishes one item: its name goes to out, or *known drops to 0. */
static int close_item(struct str_list *out, size_t *cap, int *known,
		      struct arena *a, struct item *it)
{
	const char *name = item_name(a, it);
	int rc = 0;

	if (name == NULL)
		*known = 0;
	else
		rc = push_name(out, cap, a, name);
	memset(it, 0, sizeof(*it));
	return rc;
}

/*
 * Advances lx to just after the top-level SELECT: the first SELECT at the
 * depth of the parentheses that open the body (a CTE's SELECT is deeper).
 */
static int find_select(struct lexer *lx, struct token *t, int *depth)
{
	int leading = 0, only_parens = 1;

	for (;;) {
		if (lexer_next(lx, t) < 0 || t->kind == TOK_EOF)
			return -1;
		if (tok_is_op(t, "(")) {
			(*depth)++;
			leading += only_parens;
			continue;
		}
		only_parens = 0;
		if (tok_is_op(t, ")"))
			(*depth)--;
		else if (tok_is(t, "SELECT") && *depth == leading)
			return 0;
	}
}

int model_output_columns(struct str_list *out, int *known, struct arena *a,
			 const struct model *m)
{
	struct lexer lx;
	struct token t;
	struct item it;
	size_t cap = 0;
	int depth = 0, base, rc;

	out->items = NULL;
	out->n = 0;
	*known = 0;
	lexer_init(&lx, m->body, m->body_len, m->body_line);
	/* leading parentheses wrap the whole query: count from their depth */
	if (find_select(&lx, &t, &depth) < 0)
		return 0;
	base = depth;
	*known = 1;
	memset(&it, 0, sizeof(it));
	for (;;) {
		if (lexer_next(&lx, &t) < 0) {
			*known = 0;
			return 0;
		}
		if (t.kind == TOK_EOF || (depth == base && ends_list(&t)) ||
		    (tok_is_op(&t, ")") && depth == base))
			break;
		if (depth == base && it.n_tokens == 0 &&
		    (tok_is(&t, "DISTINCT") || tok_is(&t, "ALL")))
			continue;
		if (depth == base && tok_is_op(&t, ",")) {
			if ((rc = close_item(out, &cap, known, a, &it)) < 0)
				return rc;
			continue;
		}
		depth += tok_is_op(&t, "(") - tok_is_op(&t, ")");
		if (tok_is_op(&t, "*") && depth == base &&
		    (it.n_tokens == 0 || tok_is_op(&it.last, ".")))
			it.has_star = 1;
		it.before_last = it.last;
		it.last = t;
		it.n_tokens++;
	}
	return it.n_tokens ? close_item(out, &cap, known, a, &it) : 0;
}
