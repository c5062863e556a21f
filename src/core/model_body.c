/* model_body.c: checks a model body is one query, collects refs and warnings */
#include <string.h>

#include "core/diag.h"
#include "core/lexer.h"
#include "core/model.h"
#include "core/model_int.h"
#include "util/arena.h"
#include "util/error.h"
#include "util/limits.h"
#include "util/strbuf.h"

/* Far above any canonical form of a body within IL_MAX_SQL_FILE: the
 * content hash enforces IL_MAX_CANONICAL_SQL itself. */
#define CANON_MAX (4 * IL_MAX_CANONICAL_SQL)

/* Words that start a statement other than a query. */
/* With their lengths: checked after every parenthesis, and a length that
 * matches none needs no comparing. */
#define WORD(w) { w, sizeof(w) - 1 }
static const struct { const char *w; size_t n; } statement_words[] = {
	WORD("ALTER"), WORD("CALL"), WORD("COPY"), WORD("CREATE"),
	WORD("DELETE"), WORD("DROP"), WORD("EXECUTE"), WORD("GRANT"),
	WORD("INSERT"), WORD("MERGE"), WORD("REVOKE"), WORD("SET"),
	WORD("TRUNCATE"), WORD("UPDATE"), WORD("VACUUM"),
};
#undef WORD

struct body_state {
	struct model *m;
	struct arena *a;
	struct arena *canon_a;   /* where the canonical form goes */
	struct diag_list *dl;
	struct strbuf canon;
	struct canon_writer cw;
	int canon_none;      /* a ref could not be recorded */
	struct token prev;
	size_t n_tokens;
	size_t leading;      /* ( before the first word */
	int after_semicolon;
	int warned_star;
	int warned_cross;
};

int model__add_ref(struct model *m, struct arena *a, const char *name,
		   size_t len, unsigned line, int from_header)
{
	struct model_ref *r;
	size_t n = m->n_refs;

	if (n == IL_MAX_REFS)
		return IL_ETOOBIG;
	/* the capacity is 4 (most models have a few), then doubles each time
	 * n reaches it */
	if (n == 0 || (n >= 4 && (n & (n - 1)) == 0)) {
		r = arena_calloc(a, n ? n * 2 : 4, sizeof(*r));
		if (r == NULL)
			return IL_ENOMEM;
		if (n)
			memcpy(r, m->refs, n * sizeof(*r));
		m->refs = r;
	}
	r = &m->refs[m->n_refs];
	r->name = arena_strndup(a, name, len);
	if (r->name == NULL)
		return IL_ENOMEM;
	r->line = line;
	r->from_header = from_header;
	r->target = -1;
	r->dotted = memchr(name, '.', len) != NULL;
	m->n_refs++;
	return 0;
}

static int is_statement_word(const struct token *t)
{
	size_t i;

	if (t->kind != TOK_WORD)
		return 0;
	for (i = 0; i < sizeof(statement_words) / sizeof(statement_words[0]);
	     i++)
		if (t->len == statement_words[i].n &&
		    tok_is(t, statement_words[i].w))
			return 1;
	return 0;
}

/* An error quoting token t between the texts before and after. */
static void err_at(struct body_state *st, const char *before,
		   const struct token *t, const char *after)
{
	diag_add(st->dl, DIAG_ERROR, st->m->path, t->line, "%s'%.*s'%s",
		 before, (int)t->len, t->p, after);
}

/* The first token: a query opens with SELECT or WITH (after parens).
 * Returns 1 when it does not, to stop further statement checks. */
static int check_first(struct body_state *st, const struct token *t)
{
	if (tok_is(t, "SELECT") || tok_is(t, "WITH"))
		return 0;
	err_at(st, "body must be one SELECT or WITH query, found ", t, "");
	return 1;
}

/* at: where the template starts in the canonical form. */
static int check_template(struct body_state *st, const struct token *t,
			  size_t at)
{
	const char *name = NULL;
	size_t len = 0;
	int rc;

	switch (template_classify(t, &name, &len)) {
	case TEMPLATE_REF:
		rc = model__add_ref(st->m, st->a, name, len, t->line, 0);
		if (rc == IL_ETOOBIG) {
			st->canon_none = 1;
			diag_add(st->dl, DIAG_ERROR, st->m->path, t->line,
				 "more than %d refs in one model", IL_MAX_REFS);
			return 0;
		}
		if (rc == 0) {
			struct model_ref *r = &st->m->refs[st->m->n_refs - 1];

			r->canon_off = (uint32_t)at;
			r->canon_len = (uint32_t)(st->canon.len - at);
		}
		return rc;
	case TEMPLATE_BAD_REF:
		err_at(st, "malformed ref ", t,
		       ": expected {{ ref('schema.name') }}");
		return 0;
	case TEMPLATE_OTHER:
		diag_add(st->dl, DIAG_WARNING, st->m->path, t->line,
			 "unknown template '%.*s' is kept as written",
			 (int)t->len, t->p);
		return 0;
	case TEMPLATE_VAR:
		break;
	}
	return 0;
}

static void check_warnings(struct body_state *st, const struct token *t)
{
	const struct token *p = &st->prev;

	if (!st->warned_star && tok_is_op(t, "*") &&
	    (tok_is(p, "SELECT") || tok_is(p, "DISTINCT") || tok_is(p, "ALL") ||
	     tok_is_op(p, ",") || tok_is_op(p, "."))) {
		st->warned_star = 1;
		diag_add(st->dl, DIAG_WARNING, st->m->path, t->line,
			 "SELECT * makes the model's columns depend on its "
			 "upstream; list the columns");
	}
	if (!st->warned_cross && tok_is(t, "JOIN") && tok_is(p, "CROSS")) {
		st->warned_cross = 1;
		diag_add(st->dl, DIAG_WARNING, st->m->path, t->line,
			 "CROSS JOIN multiplies rows; check it is intended");
	}
}

/* One significant token; returns 1 to stop checking statements. */
static int check_token(struct body_state *st, const struct token *t)
{
	const struct token *p = &st->prev;

	if (tok_is_op(t, ";")) {
		st->after_semicolon = 1;
		return 0;
	}
	if (st->after_semicolon) {
		err_at(st, "only one statement is allowed: a second "
		       "statement starts at ", t, "");
		return 1;
	}
	if (st->n_tokens == st->leading && tok_is_op(t, "("))
		st->leading++;
	else if (st->n_tokens == st->leading && check_first(st, t))
		return 1;
	else if ((tok_is_op(p, "(") || tok_is_op(p, ")")) &&
		 is_statement_word(t))
		err_at(st, "", t, " is not allowed in a model body: it must "
		       "be one query");
	else if (tok_is(t, "INTO"))
		err_at(st, "SELECT ... ", t, " is not allowed: the body must "
		       "be one query that creates nothing");
	check_warnings(st, t);
	return 0;
}

/* The canonical form's buffer, sized so a typical body needs no growth
 * (comments and indentation go, ", " comes). */
static int canon_start(struct body_state *st)
{
	size_t cap = st->m->body_len + st->m->body_len / 8 + 16;

	strbuf_init(&st->canon, st->canon_a, CANON_MAX);
	st->canon.buf = arena_alloc(st->canon_a, cap);
	if (st->canon.buf == NULL)
		return IL_ENOMEM;
	st->canon.cap = cap;
	st->canon.buf[0] = '\0';
	canon_begin(&st->cw, &st->canon);
	return 0;
}

static void canon_end(struct body_state *st, int lexed)
{
	struct model_canon *c = &st->m->canon;

	c->state = !lexed ? CANON_RAW :
		st->canon_none || st->canon.failed ? CANON_NONE : CANON_OK;
	c->text = c->state == CANON_OK ? st->canon.buf : NULL;
	c->len = c->state == CANON_OK ? st->canon.len : 0;
}

int model__check_body(struct model *m, struct arena *a, struct arena *canon_a,
		      struct diag_list *dl)
{
	struct body_state st;
	struct lexer lx;
	struct token t;
	int stop = 0, rc;
	size_t at;

	memset(&st, 0, sizeof(st));
	st.m = m;
	st.a = a;
	st.canon_a = canon_a;
	st.dl = dl;
	if ((rc = canon_start(&st)) < 0)
		return rc;
	lexer_init(&lx, m->body, m->body_len, m->body_line);
	for (;;) {
		if (lexer_next(&lx, &t) < 0) {
			diag_add(dl, DIAG_ERROR, m->path, lx.err_line, "%s",
				 lx.err);
			canon_end(&st, 0);
			return 0;
		}
		if (t.kind == TOK_EOF)
			break;
		at = canon_add(&st.cw, &t, NULL, NULL);
		if (t.kind == TOK_TEMPLATE &&
		    (rc = check_template(&st, &t, at)) < 0)
			return rc;
		if (!stop)
			stop = check_token(&st, &t);
		st.prev = t;
		st.n_tokens++;
	}
	canon_end(&st, 1);
	if (st.n_tokens == 0)
		diag_add(dl, DIAG_ERROR, m->path, m->body_line,
			 "empty body: expected a SELECT or WITH query");
	return 0;
}
