/* common.c (exec): identifiers, error text and rendering shared by executors */
#include <string.h>
#include <time.h>

#include "core/date.h"
#include "core/lexer.h"
#include "exec/exec.h"
#include "util/arena.h"
#include "util/error.h"
#include "util/limits.h"
#include "util/parse.h"
#include "util/strbuf.h"

const char *exec_select_body(struct arena *a, const char *sql)
{
	size_t n = strlen(sql);

	while (n > 0 && strchr(" \t\r\n;", sql[n - 1]) != NULL)
		n--;
	return arena_strndup(a, sql, n);
}

int exec_date_ok(const char *s)
{
	long days;

	return s != NULL && strlen(s) == IL_DATE_LEN && date_parse(s, &days) == 0;
}

long long exec_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int exec_ident_ok(const char *s)
{
	return ident_ok(s, IL_MAX_IDENT, IDENT_LEADING_UNDERSCORE);
}

const char *exec_quote_ident(struct arena *a, const char *s)
{
	/* validated names contain no quote, so wrapping is enough */
	return arena_printf(a, "\"%s\"", s);
}

const char *exec_error_text(struct arena *a, const char *msg)
{
	size_t n = msg ? strlen(msg) : 0;

	if (msg == NULL)
		return arena_strdup(a, "unknown error");
	if (n > EXEC_MAX_ERROR) {
		n = EXEC_MAX_ERROR;
		while (n > 0 && ((unsigned char)msg[n] & 0xc0) == 0x80)
			n--;
	}
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' ' || msg[n - 1] == '\r'))
		n--;
	return arena_strndup(a, msg, n);
}

/* The variable named inside {{ … }} (t includes the braces), or NULL. */
static const char *template_var(const char *p, size_t n, const char *start, const char *end)
{
	while (n > 0 && (*p == '{' || *p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	while (n > 0 && (p[n - 1] == '}' || p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n == 10 && memcmp(p, "start_date", 10) == 0)
		return start;
	if (n == 8 && memcmp(p, "end_date", 8) == 0)
		return end;
	return NULL;
}

/* A string literal holding nothing but one template, e.g. '{{ start_date }}'. */
static int quoted_var(const struct token *t)
{
	return t->kind == TOK_STRING && t->len >= 6 && memcmp(t->p, "'{{", 3) == 0 &&
	       memcmp(t->p + t->len - 3, "}}'", 3) == 0;
}

static int render_template(struct strbuf *out, const char **err, struct arena *a,
			   const struct token *t, const char *start, const char *end,
			   exec_qualify_fn qualify, void *payload)
{
	const char *name, *var;
	size_t name_len;

	if (t->kind == TOK_TEMPLATE &&
	    template_classify(t, &name, &name_len) == TEMPLATE_REF) {
		const char *q = qualify(payload, arena_strndup(a, name, name_len));

		if (q == NULL) {
			*err = arena_printf(a, "line %u: ref('%.*s') names no model", t->line,
					    (int)name_len, name);
			return IL_EINVALID;
		}
		return strbuf_adds(out, q);
	}
	var = template_var(t->p + (t->kind == TOK_STRING), t->len - 2 * (t->kind == TOK_STRING),
			   start, end);
	if (var == NULL) {
		*err = arena_printf(a, "line %u: cannot render %.*s%s", t->line,
				    (int)(t->len > 60 ? 60 : t->len), t->p,
				    template_var(t->p, t->len, "x", "x") ?
				    " (the step has no date range)" : "");
		return IL_EINVALID;
	}
	return strbuf_addf(out, "'%s'", var);
}

int exec_render(const char **out, const char **err, struct arena *a, const char *body,
		size_t len, const char *start, const char *end, exec_qualify_fn qualify,
		void *payload)
{
	struct lexer lx;
	struct token t;
	struct strbuf sb;
	size_t copied = 0;

	*err = NULL;
	strbuf_init(&sb, a, 4 * len + 4096);
	lexer_init(&lx, body, len, 1);
	for (;;) {
		if (lexer_next(&lx, &t) < 0) {
			*err = arena_printf(a, "line %u: %s", lx.err_line, lx.err);
			return IL_EINVALID;
		}
		if (t.kind == TOK_EOF)
			break;
		if (t.kind != TOK_TEMPLATE && !quoted_var(&t))
			continue;
		strbuf_add(&sb, body + copied, (size_t)(t.p - (body + copied)));
		if (render_template(&sb, err, a, &t, start, end, qualify, payload) < 0 && *err)
			return IL_EINVALID;
		copied = (size_t)(t.p + t.len - body);
	}
	strbuf_add(&sb, body + copied, len - copied);
	*out = strbuf_cstr(&sb);
	return *out != NULL ? 0 : IL_ENOMEM;
}
