/* tokens.c (advise): a model's SQL as a token array with paren depths */
#include "advise/tokens.h"

#include "advise/advise.h"
#include "core/model.h"
#include "util/arena.h"
#include "util/error.h"

/* Token count bound: one token needs at least one byte, plus EOF. */
static int count(size_t *n, const char *sql, size_t len, unsigned first_line)
{
	struct lexer lx;
	struct token k;

	*n = 0;
	lexer_init(&lx, sql, len, first_line);
	for (;;) {
		if (lexer_next(&lx, &k) < 0)
			return IL_EINVALID;
		if (k.kind == TOK_EOF)
			return 0;
		(*n)++;
	}
}

int tokens_read(struct tokens *t, struct arena *a, const char *sql, size_t len,
		unsigned first_line)
{
	struct lexer lx;
	size_t n, i;
	long depth = 0;
	int rc = count(&n, sql, len, first_line);

	t->n = 0;
	if (rc < 0)
		return rc;
	t->tok = arena_calloc(a, n + 1, sizeof(*t->tok));
	t->depth = arena_calloc(a, n + 1, sizeof(*t->depth));
	if (t->tok == NULL || t->depth == NULL)
		return IL_ENOMEM;
	lexer_init(&lx, sql, len, first_line);
	for (i = 0; i < n; i++) {
		if (lexer_next(&lx, &t->tok[i]) < 0)
			return IL_EINVALID;
		if (tok_is_op(&t->tok[i], ")") && --depth < 0)
			return IL_EINVALID;
		t->depth[i] = depth;
		if (tok_is_op(&t->tok[i], "("))
			depth++;
	}
	t->n = n;
	return depth == 0 ? 0 : IL_EINVALID;
}

size_t tokens_matching_paren(const struct tokens *t, size_t open)
{
	size_t i;

	for (i = open + 1; i < t->n; i++)
		if (tok_is_op(&t->tok[i], ")") && t->depth[i] == t->depth[open])
			return i;
	return t->n;
}

int tokens_has_column(const struct tokens *t, size_t from, size_t to)
{
	size_t i;

	for (i = from; i < to && i < t->n; i++) {
		const struct token *k = &t->tok[i];

		if (k->kind == TOK_QIDENT)
			return 1;
		if (k->kind == TOK_WORD && !sql_is_keyword(k->p, k->len))
			return 1;
	}
	return 0;
}

/* The name a select item produces (its last identifier), lower-cased; NULL if none. */
static const char *item_name(struct arena *a, const struct tokens *t, size_t from,
			     size_t to)
{
	const struct token *k;
	char *s;
	size_t i, off = 0, len;

	if (to <= from)
		return "";
	k = &t->tok[to - 1];
	if (tok_is_op(k, "*"))
		return NULL;
	len = k->len;
	if (k->kind == TOK_QIDENT && len >= 2) {
		off = 1;
		len -= 2;
	} else if (k->kind != TOK_WORD || sql_is_keyword(k->p, k->len)) {
		return ""; /* an expression without alias: no stable name */
	}
	s = arena_strndup(a, k->p + off, len);
	for (i = 0; s != NULL && s[i] != '\0'; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			s[i] = (char)(s[i] - 'A' + 'a');
	return s;
}

int advise_output_columns(const char ***out, size_t *n, struct arena *a,
			  const struct model *m)
{
	struct tokens t;
	size_t i, start, cap = 0;
	const char *name;
	int rc = tokens_read(&t, a, m->body, m->body_len, m->body_line);

	*out = NULL;
	*n = (size_t)-1;
	if (rc == IL_EINVALID)
		return 0;
	if (rc < 0)
		return rc;
	for (i = 0; i < t.n && !(t.depth[i] == 0 && tok_is(&t.tok[i], "SELECT")); i++)
		;
	if (i == t.n)
		return 0;
	for (start = ++i; i < t.n && (tok_is(&t.tok[i], "DISTINCT") || tok_is(&t.tok[i], "ALL"));)
		start = ++i;
	*out = arena_calloc(a, t.n + 1, sizeof(**out));
	if (*out == NULL)
		return IL_ENOMEM;
	for (; i <= t.n; i++) {
		int end = i == t.n || (t.depth[i] == 0 && (tok_is(&t.tok[i], "FROM") ||
							  tok_is_op(&t.tok[i], ",")));

		if (!end)
			continue;
		if ((name = item_name(a, &t, start, i)) == NULL)
			return 0; /* a star: the columns come from upstream */
		if (*name != '\0')
			(*out)[cap++] = name;
		start = i + 1;
		if (i == t.n || tok_is(&t.tok[i], "FROM"))
			break;
	}
	*n = cap;
	return 0;
}
