/* tokens.h (advise): a model's SQL as a token array with paren depths */
#ifndef IL_ADVISE_TOKENS_H
#define IL_ADVISE_TOKENS_H
#include <stddef.h>

#include "core/lexer.h"

struct arena;

struct tokens {
	struct token *tok;
	long *depth;        /* parens open before the token ("(" itself excluded) */
	size_t n;
};

/*
 * Lexes sql (lines counted from first_line). Returns 0, IL_EINVALID on a
 * lexical error or unbalanced parentheses, or IL_ENOMEM.
 */
int tokens_read(struct tokens *t, struct arena *a, const char *sql, size_t len,
		unsigned first_line);
/* The index of the ")" closing the "(" at open, or t->n. */
size_t tokens_matching_paren(const struct tokens *t, size_t open);
/* 1 when tokens [from, to) hold an identifier that is not a keyword. */
int tokens_has_column(const struct tokens *t, size_t from, size_t to);

#endif
