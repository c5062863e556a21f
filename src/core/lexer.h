/* lexer.h: dialect-tolerant SQL tokenizer and canonical SQL form */
#ifndef IL_LEXER_H
#define IL_LEXER_H
#include <stddef.h>

struct strbuf;

enum tok_kind {
	TOK_EOF = 0,
	TOK_WORD,      /* keyword or unquoted identifier */
	TOK_QIDENT,    /* "quoted" or `backtick` identifier, quotes included */
	TOK_STRING,    /* 'string' with '' escapes, quotes included */
	TOK_NUMBER,
	TOK_OP,        /* operators and punctuation: ( ) , ; . <= :: ... */
	TOK_TEMPLATE   /* {{ ... }}, braces included */
};

struct token {
	enum tok_kind kind;
	const char *p;
	size_t len;
	unsigned line;  /* 1-based, counted from the lexer's first line */
};

/*
 * Comments and whitespace are skipped. On a lexical error (unterminated
 * string, quoted identifier, block comment or template; a control
 * character)
 * lexer_next returns -1 and err/err_line say what and where.
 */
struct lexer {
	const char *src;
	size_t len;
	size_t pos;
	unsigned line;
	const char *err;
	unsigned err_line;
};

void lexer_init(struct lexer *lx, const char *src, size_t len,
		unsigned first_line);
/* Next significant token into t (TOK_EOF at the end); 0 or -1. */
int lexer_next(struct lexer *lx, struct token *t);

/* 1 when the word token t is the keyword kw (kw upper-case; inline: kw
 * is a literal, so its length is known and most words differ in it). */
static inline int tok_is(const struct token *t, const char *kw)
{
	size_t i, n = __builtin_strlen(kw);

	if (t->kind != TOK_WORD || t->len != n)
		return 0;
	for (i = 0; i < n; i++) {
		char c = t->p[i];

		if ((c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c) != kw[i])
			return 0;
	}
	return 1;
}
/* 1 when t is the operator/punctuation op (inline: the lexer's hot path). */
static inline int tok_is_op(const struct token *t, const char *op)
{
	size_t i;

	if (t->kind != TOK_OP)
		return 0;
	for (i = 0; i < t->len; i++)
		if (op[i] != t->p[i])
			return 0;
	return op[i] == '\0';
}
/* 1 when the word is in the SQL keyword list (printed upper-case). */
int sql_is_keyword(const char *p, size_t len);

/*
 * The inside of a {{ ... }} token, trimmed. For {{ ref('x') }} or
 * {{ ref("x") }} sets *name and *name_len to x and returns TEMPLATE_REF;
 * TEMPLATE_BAD_REF when it starts with ref but is malformed;
 * TEMPLATE_VAR for start_date/end_date; TEMPLATE_OTHER otherwise.
 */
enum template_kind {
	TEMPLATE_REF, TEMPLATE_BAD_REF, TEMPLATE_VAR, TEMPLATE_OTHER
};
enum template_kind template_classify(const struct token *t,
				     const char **name, size_t *name_len);

/* Maps a ref argument to the canonical model name, or NULL to keep it. */
typedef const char *(*ref_resolver_fn)(void *payload, const char *name,
				       size_t len);

/*
 * Appends the canonical form of sql to out: comments dropped, one space
 * between tokens (none inside a.b, before , ) or after (), keywords
 * upper-case, unquoted identifiers lower-case, literals and quoted
 * identifiers byte for byte, refs replaced by resolve(), other templates
 * with their inside whitespace collapsed, trailing semicolons dropped.
 * Returns 0, -1 on a lexical error, IL_ETOOBIG/IL_ENOMEM when out fails.
 */
int sql_canonical(struct strbuf *out, const char *sql, size_t len,
		  ref_resolver_fn resolve, void *payload);

/* sql_canonical one token at a time, for a caller that lexes anyway. */
struct canon_writer {
	struct strbuf *out;
	struct token prev;
	size_t pending_semis;   /* ';' are written only before a next token */
	int have_prev;
};
void canon_begin(struct canon_writer *w, struct strbuf *out);
/* Appends t; returns the offset in out where t's own text starts, or
 * (size_t)-1 for a ';' (held back: trailing ones are dropped). */
size_t canon_add(struct canon_writer *w, const struct token *t,
		 ref_resolver_fn resolve, void *payload);
#endif
