/* canonical.c: template classification and the canonical form of SQL */
#include <string.h>

#include "core/lexer.h"
#include "util/error.h"
#include "util/strbuf.h"

/* strbuf_add without its checks while there is room (cap never passes
 * max + 1, so the max holds): the canonical form's hot path. */
static inline void out_add(struct strbuf *sb, const char *s, size_t n)
{
	if (!sb->failed && sb->len + n < sb->cap) {
		memcpy(sb->buf + sb->len, s, n);
		sb->len += n;
		sb->buf[sb->len] = '\0';
		return;
	}
	strbuf_add(sb, s, n);
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

/* The inside of {{ ... }} with surrounding blanks trimmed. */
static void template_inner(const struct token *t, const char **p, size_t *n)
{
	const char *s = t->p + 2;
	size_t len = t->len - 4;

	while (len && is_blank(*s)) {
		s++;
		len--;
	}
	while (len && is_blank(s[len - 1]))
		len--;
	*p = s;
	*n = len;
}

static size_t skip_blanks(const char *s, size_t i, size_t n)
{
	while (i < n && is_blank(s[i]))
		i++;
	return i;
}

/* Parses ref ( 'x' ) / ref ( "x" ) exactly, with optional blanks. */
static int parse_ref(const char *s, size_t n, const char **name,
		     size_t *name_len)
{
	size_t i = skip_blanks(s, 3, n), start;
	char q;

	if (i >= n || s[i] != '(')
		return -1;
	i = skip_blanks(s, i + 1, n);
	if (i >= n || (s[i] != '\'' && s[i] != '"'))
		return -1;
	q = s[i++];
	start = i;
	while (i < n && s[i] != q)
		i++;
	if (i >= n || i == start)
		return -1;
	*name = s + start;
	*name_len = i - start;
	i = skip_blanks(s, i + 1, n);
	if (i >= n || s[i] != ')')
		return -1;
	return skip_blanks(s, i + 1, n) == n ? 0 : -1;
}

static int word_eq(const char *s, size_t n, const char *w)
{
	return n == strlen(w) && memcmp(s, w, n) == 0;
}

enum template_kind template_classify(const struct token *t,
				     const char **name, size_t *name_len)
{
	const char *s;
	size_t n;

	template_inner(t, &s, &n);
	if (n >= 3 && memcmp(s, "ref", 3) == 0 &&
	    (n == 3 || s[3] == '(' || is_blank(s[3])))
		return parse_ref(s, n, name, name_len) == 0 ? TEMPLATE_REF :
			TEMPLATE_BAD_REF;
	if (word_eq(s, n, "start_date") || word_eq(s, n, "end_date"))
		return TEMPLATE_VAR;
	return TEMPLATE_OTHER;
}

static void add_template(struct strbuf *out, const struct token *t,
			 ref_resolver_fn resolve, void *payload)
{
	const char *s, *name = NULL, *canon = NULL;
	size_t n, name_len = 0, i;
	int blank = 0;

	if (template_classify(t, &name, &name_len) == TEMPLATE_REF && resolve)
		canon = resolve(payload, name, name_len);
	if (canon) {
		strbuf_adds(out, canon);
		return;
	}
	template_inner(t, &s, &n);
	strbuf_add(out, "{{ ", 3);
	for (i = 0; i < n; i++) {
		if (is_blank(s[i])) {
			blank = 1;
			continue;
		}
		if (blank)
			strbuf_addc(out, ' ');
		blank = 0;
		strbuf_addc(out, s[i]);
	}
	strbuf_add(out, " }}", 3);
}

/* Keywords go upper-case, identifiers lower-case (ASCII letters only). */
static void fold(unsigned char *d, const unsigned char *s, size_t n,
		 int to_upper)
{
	size_t i;

	if (to_upper)
		for (i = 0; i < n; i++)
			d[i] = (unsigned char)(s[i] -
				((unsigned)(s[i] - 'a') < 26u) * 32);
	else
		for (i = 0; i < n; i++)
			d[i] = (unsigned char)(s[i] +
				((unsigned)(s[i] - 'A') < 26u) * 32);
}

static void add_word(struct strbuf *out, const struct token *t)
{
	int kw = sql_is_keyword(t->p, t->len);
	const unsigned char *src = (const unsigned char *)t->p;
	unsigned char buf[64], *d;
	size_t i, n;

	if (!out->failed && out->len + t->len < out->cap) {
		/* the usual case: straight into the buffer */
		d = (unsigned char *)out->buf + out->len;
		fold(d, src, t->len, kw);
		out->len += t->len;
		out->buf[out->len] = '\0';
		return;
	}
	/* case-fold in chunks so a long identifier costs few appends */
	for (i = 0; i < t->len; i += n) {
		n = t->len - i < sizeof(buf) ? t->len - i : sizeof(buf);
		fold(buf, src + i, n, kw);
		out_add(out, (const char *)buf, n);
	}
}

static int glue_after(const struct token *prev)
{
	if (prev->kind != TOK_OP)
		return 0;
	switch (prev->p[0]) {
	case '(': case '.': case '[':
		return prev->len == 1;
	case ':':
		return prev->len == 2 && prev->p[1] == ':';
	default:
		return 0;
	}
}

/* No space before ) , . :: ] [, nor before the ( of a function call. */
static int glue_before(const struct token *prev, const struct token *cur)
{
	if (cur->kind != TOK_OP)
		return 0;
	switch (cur->p[0]) {
	case ')': case ',': case '.': case ']': case '[':
		return cur->len == 1;
	case ':':
		return cur->len == 2 && cur->p[1] == ':';
	case '(':
		return cur->len == 1 && (prev->kind == TOK_QIDENT ||
		       (prev->kind == TOK_WORD &&
			!sql_is_keyword(prev->p, prev->len)));
	default:
		return 0;
	}
}

static void add_token(struct strbuf *out, const struct token *t,
		      ref_resolver_fn resolve, void *payload)
{
	if (t->kind == TOK_WORD)
		add_word(out, t);
	else if (t->kind == TOK_TEMPLATE)
		add_template(out, t, resolve, payload);
	else
		out_add(out, t->p, t->len);
}

void canon_begin(struct canon_writer *w, struct strbuf *out)
{
	memset(w, 0, sizeof(*w));
	w->out = out;
}

size_t canon_add(struct canon_writer *w, const struct token *t,
		 ref_resolver_fn resolve, void *payload)
{
	size_t at;

	if (tok_is_op(t, ";")) {
		w->pending_semis++;
		return (size_t)-1;
	}
	for (; w->pending_semis; w->pending_semis--)
		out_add(w->out, ";", 1);
	if (w->have_prev && !glue_after(&w->prev) && !glue_before(&w->prev, t))
		out_add(w->out, " ", 1);
	at = w->out->len;
	add_token(w->out, t, resolve, payload);
	w->prev = *t;
	w->have_prev = 1;
	return at;
}

int sql_canonical(struct strbuf *out, const char *sql, size_t len,
		  ref_resolver_fn resolve, void *payload)
{
	struct canon_writer w;
	struct lexer lx;
	struct token t;

	canon_begin(&w, out);
	lexer_init(&lx, sql, len, 1);
	for (;;) {
		if (lexer_next(&lx, &t) < 0)
			return -1;
		if (t.kind == TOK_EOF)
			break;
		canon_add(&w, &t, resolve, payload);
	}
	/* a failed buffer almost always means the max was reached */
	return out->failed ? IL_ETOOBIG : 0;
}
