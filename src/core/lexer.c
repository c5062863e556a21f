/* lexer.c: dialect-tolerant SQL tokenizer and canonical SQL form */
#include "core/lexer.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/strbuf.h"

/* The words sql_is_keyword knows (upper-case), looked up by hash. */
static const char *const keywords[] = {
	"ALL",
	"ALTER",
	"AND",
	"ANTI",
	"ANY",
	"ARRAY",
	"AS",
	"ASC",
	"BETWEEN",
	"BOTH",
	"BY",
	"CALL",
	"CASE",
	"CAST",
	"COPY",
	"CREATE",
	"CROSS",
	"CURRENT",
	"CURRENT_DATE",
	"CURRENT_TIMESTAMP",
	"DATE",
	"DELETE",
	"DESC",
	"DISTINCT",
	"DROP",
	"ELSE",
	"END",
	"ESCAPE",
	"EXCEPT",
	"EXECUTE",
	"EXISTS",
	"EXPLAIN",
	"FALSE",
	"FETCH",
	"FILTER",
	"FIRST",
	"FOLLOWING",
	"FOR",
	"FROM",
	"FULL",
	"GRANT",
	"GROUP",
	"HAVING",
	"IF",
	"ILIKE",
	"IN",
	"INNER",
	"INSERT",
	"INTERSECT",
	"INTERVAL",
	"INTO",
	"IS",
	"JOIN",
	"LAST",
	"LATERAL",
	"LEADING",
	"LEFT",
	"LIKE",
	"LIMIT",
	"MERGE",
	"NATURAL",
	"NOT",
	"NULL",
	"NULLS",
	"OFFSET",
	"ON",
	"OR",
	"ORDER",
	"OUTER",
	"OVER",
	"PARTITION",
	"PRECEDING",
	"QUALIFY",
	"RANGE",
	"RECURSIVE",
	"REVOKE",
	"RIGHT",
	"ROW",
	"ROWS",
	"SELECT",
	"SEMI",
	"SET",
	"SIMILAR",
	"TABLE",
	"THEN",
	"TIMESTAMP",
	"TRAILING",
	"TRUE",
	"TRUNCATE",
	"UNBOUNDED",
	"UNION",
	"UPDATE",
	"USING",
	"VACUUM",
	"VALUES",
	"WHEN",
	"WHERE",
	"WINDOW",
	"WITH",
};

/* Longest first so "->>" wins over "->". */
static const char *const multi_ops[] = {
	"->>", "#>>", "<=>", "<=", ">=", "<>", "!=", "==", "||", "::", "->",
	"=>", "<<", ">>", "#>", "**",
};

void lexer_init(struct lexer *lx, const char *src, size_t len,
		unsigned first_line)
{
	memset(lx, 0, sizeof(*lx));
	lx->src = src;
	lx->len = len;
	lx->line = first_line ? first_line : 1;
}

static int upper(int c)
{
	return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

/* Byte classes, looked up once per byte on the lexer's hot path. */
enum { C_SPACE = 1, C_START = 2, C_IDENT = 4, C_DIGIT = 8, C_MULTI = 16 };

#define START_RANGE(lo, hi) [lo ... hi] = C_START | C_IDENT
static const unsigned char byte_class[256] = {
	[' '] = C_SPACE, ['\t'] = C_SPACE, ['\n'] = C_SPACE, ['\r'] = C_SPACE,
	['\v'] = C_SPACE, ['\f'] = C_SPACE,
	START_RANGE('a', 'z'), START_RANGE('A', 'Z'), ['_'] = C_START | C_IDENT,
	START_RANGE(0x80, 0xff),
	['0' ... '9'] = C_DIGIT | C_IDENT, ['$'] = C_IDENT,
	/* the first characters of multi_ops */
	['-'] = C_MULTI, ['#'] = C_MULTI, ['<'] = C_MULTI, ['>'] = C_MULTI,
	['!'] = C_MULTI, ['='] = C_MULTI, ['|'] = C_MULTI, [':'] = C_MULTI,
	['*'] = C_MULTI,
};

static int is_ident_start(unsigned char c)
{
	return byte_class[c] & C_START;
}

static int is_ident_char(unsigned char c)
{
	return byte_class[c] & C_IDENT;
}

static int is_digit(unsigned char c)
{
	return byte_class[c] & C_DIGIT;
}

static int is_space(unsigned char c)
{
	return byte_class[c] & C_SPACE;
}

static int fail(struct lexer *lx, const char *msg, unsigned line)
{
	lx->err = msg;
	lx->err_line = line;
	return -1;
}

/* Skips a block comment at lx->pos; -1 when it is not closed. */
static int skip_block_comment(struct lexer *lx)
{
	unsigned start = lx->line;

	lx->pos += 2;
	for (;;) {
		if (lx->pos + 1 >= lx->len)
			return fail(lx, "unterminated /* comment", start);
		if (lx->src[lx->pos] == '*' && lx->src[lx->pos + 1] == '/')
			break;
		if (lx->src[lx->pos] == '\n')
			lx->line++;
		lx->pos++;
	}
	lx->pos += 2;
	return 0;
}

/* Skips whitespace and comments; -1 on an unterminated block comment. */
static int skip_space(struct lexer *lx)
{
	const char *src = lx->src;
	size_t pos = lx->pos, len = lx->len;
	unsigned line = lx->line;

	for (;;) {
		unsigned char c;

		while (pos < len && is_space(c = (unsigned char)src[pos])) {
			line += c == '\n';
			pos++;
		}
		if (pos + 1 >= len)
			break;
		if (src[pos] == '-' && src[pos + 1] == '-') {
			while (pos < len && src[pos] != '\n')
				pos++;
		} else if (src[pos] == '/' && src[pos + 1] == '*') {
			lx->pos = pos;
			lx->line = line;
			if (skip_block_comment(lx) < 0)
				return -1;
			pos = lx->pos;
			line = lx->line;
		} else {
			break;
		}
	}
	lx->pos = pos;
	lx->line = line;
	return 0;
}

/* A quoted run closed by q, where a doubled q is an escaped q. */
static int scan_quoted(struct lexer *lx, char q, const char *what)
{
	unsigned start = lx->line;

	lx->pos++;
	for (;;) {
		if (lx->pos >= lx->len)
			return fail(lx, what, start);
		if (lx->src[lx->pos] == q) {
			if (lx->pos + 1 < lx->len && lx->src[lx->pos + 1] == q) {
				lx->pos += 2;
				continue;
			}
			lx->pos++;
			return 0;
		}
		if (lx->src[lx->pos] == '\n')
			lx->line++;
		lx->pos++;
	}
}

static int scan_template(struct lexer *lx)
{
	unsigned start = lx->line;

	lx->pos += 2;
	for (;;) {
		if (lx->pos + 1 >= lx->len)
			return fail(lx, "unterminated {{ template", start);
		if (lx->src[lx->pos] == '}' && lx->src[lx->pos + 1] == '}')
			break;
		if (lx->src[lx->pos] == '\n')
			lx->line++;
		lx->pos++;
	}
	lx->pos += 2;
	return 0;
}

static void scan_number(struct lexer *lx)
{
	const char *s = lx->src;
	size_t n = lx->len;

	while (lx->pos < n && is_digit((unsigned char)s[lx->pos]))
		lx->pos++;
	if (lx->pos < n && s[lx->pos] == '.') {
		lx->pos++;
		while (lx->pos < n && is_digit((unsigned char)s[lx->pos]))
			lx->pos++;
	}
	if (lx->pos < n && (s[lx->pos] == 'e' || s[lx->pos] == 'E')) {
		size_t p = lx->pos + 1;

		if (p < n && (s[p] == '+' || s[p] == '-'))
			p++;
		if (p < n && is_digit((unsigned char)s[p])) {
			while (p < n && is_digit((unsigned char)s[p]))
				p++;
			lx->pos = p;
		}
	}
}

/* 1 when c can start a multi-character operator. */
static int multi_op_start(char c)
{
	return byte_class[(unsigned char)c] & C_MULTI;
}

static size_t op_length(const struct lexer *lx)
{
	const char *p = lx->src + lx->pos;
	size_t i, rest = lx->len - lx->pos;

	if (rest < 2 || !multi_op_start(p[0]))
		return 1;
	for (i = 0; i < sizeof(multi_ops) / sizeof(multi_ops[0]); i++) {
		const char *op = multi_ops[i];

		if (op[0] == p[0] && op[1] == p[1] &&
		    (op[2] == '\0' || (rest > 2 && op[2] == p[2])))
			return op[2] ? 3 : 2;
	}
	return 1;
}

/* Scans the token starting at lx->pos whose first byte is c. */
static int scan_token(struct lexer *lx, struct token *t, unsigned char c)
{
	unsigned char next = lx->pos + 1 < lx->len ?
		(unsigned char)lx->src[lx->pos + 1] : 0;

	if (c == '\'') {
		t->kind = TOK_STRING;
		return scan_quoted(lx, '\'', "unterminated string literal");
	}
	if (c == '"' || c == '`') {
		t->kind = TOK_QIDENT;
		return scan_quoted(lx, (char)c, "unterminated quoted identifier");
	}
	if (c == '{' && next == '{') {
		t->kind = TOK_TEMPLATE;
		return scan_template(lx);
	}
	if (is_digit(c) || (c == '.' && is_digit(next))) {
		t->kind = TOK_NUMBER;
		scan_number(lx);
		return 0;
	}
	if (is_ident_start(c)) {
		const char *src = lx->src;
		size_t pos = lx->pos + 1, len = lx->len;

		t->kind = TOK_WORD;
		while (pos < len && is_ident_char((unsigned char)src[pos]))
			pos++;
		lx->pos = pos;
		return 0;
	}
	if (c < 0x20 || c == 0x7f)
		return fail(lx, "unexpected control character", lx->line);
	t->kind = TOK_OP;
	lx->pos += op_length(lx);
	return 0;
}

int lexer_next(struct lexer *lx, struct token *t)
{
	size_t start;

	if (skip_space(lx) < 0)
		return -1;
	t->line = lx->line;
	t->p = lx->src + lx->pos;
	t->len = 0;
	if (lx->pos >= lx->len) {
		t->kind = TOK_EOF;
		return 0;
	}
	start = lx->pos;
	if (scan_token(lx, t, (unsigned char)lx->src[lx->pos]) < 0)
		return -1;
	t->len = lx->pos - start;
	return 0;
}

#define KW_COUNT (sizeof(keywords) / sizeof(keywords[0]))
#define KW_SLOTS 256     /* a power of two, well above twice KW_COUNT */

/* keyword index + 1 by hash of the upper-case word, 0 for an empty slot */
static unsigned char kw_slots[KW_SLOTS];
/* bit n of kw_lens[c]: a keyword of n letters starts with c (upper-case):
 * most identifiers fail this test without being hashed */
static uint32_t kw_lens[256];
static pthread_once_t kw_once = PTHREAD_ONCE_INIT;

/* FNV-1a of the word upper-cased into up (len bytes, NUL added). */
static unsigned kw_hash(const char *p, size_t len, char *up)
{
	unsigned h = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++) {
		up[i] = (char)upper((unsigned char)p[i]);
		h = (h ^ (unsigned char)up[i]) * 16777619u;
	}
	up[len] = '\0';
	return h;
}

static void kw_build(void)
{
	char up[32];
	size_t i;

	for (i = 0; i < KW_COUNT; i++) {
		size_t n = strlen(keywords[i]);
		unsigned h = kw_hash(keywords[i], n, up);

		kw_lens[(unsigned char)keywords[i][0]] |= (uint32_t)1 << n;
		kw_lens[(unsigned char)keywords[i][0] - 'A' + 'a'] |=
			(uint32_t)1 << n;

		while (kw_slots[h & (KW_SLOTS - 1)])
			h++;
		kw_slots[h & (KW_SLOTS - 1)] = (unsigned char)(i + 1);
	}
}

int sql_is_keyword(const char *p, size_t len)
{
	char up[18];
	unsigned h;

	/* no keyword is shorter than 2 or longer than CURRENT_TIMESTAMP */
	if (len < 2 || len > 17)
		return 0;
	pthread_once(&kw_once, kw_build);
	if (!(kw_lens[(unsigned char)p[0]] & (uint32_t)1 << len))
		return 0;
	for (h = kw_hash(p, len, up); kw_slots[h & (KW_SLOTS - 1)]; h++) {
		const char *kw = keywords[kw_slots[h & (KW_SLOTS - 1)] - 1];

		if (kw[0] == up[0] && strcmp(kw, up) == 0)
			return 1;
	}
	return 0;
}
