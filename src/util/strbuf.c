/* strbuf.c: arena-backed growable string with a hard maximum */
#include "util/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/arena.h"

void strbuf_init(struct strbuf *sb, struct arena *a, size_t max)
{
	sb->arena = a;
	sb->buf = NULL;
	sb->len = 0;
	sb->cap = 0;
	sb->max = max;
	sb->failed = 0;
}

static int fail(struct strbuf *sb)
{
	sb->failed = 1;
	return -1;
}

/* Makes room for n more bytes plus the terminating NUL. */
static int reserve(struct strbuf *sb, size_t n)
{
	size_t need, cap;
	char *nb;

	if (sb->failed)
		return -1;
	if (n > sb->max || sb->len > sb->max - n)
		return fail(sb);
	need = sb->len + n + 1;
	if (need <= sb->cap)
		return 0;
	cap = sb->cap ? sb->cap : 64;
	while (cap < need)
		cap *= 2;
	if (cap > sb->max + 1)
		cap = sb->max + 1;
	nb = arena_alloc(sb->arena, cap);
	if (nb == NULL)
		return fail(sb);
	if (sb->len)
		memcpy(nb, sb->buf, sb->len);
	sb->buf = nb;
	sb->cap = cap;
	return 0;
}

int strbuf_add(struct strbuf *sb, const void *data, size_t n)
{
	if (reserve(sb, n) < 0)
		return -1;
	if (n)
		memcpy(sb->buf + sb->len, data, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
	return 0;
}

int strbuf_adds(struct strbuf *sb, const char *s)
{
	return strbuf_add(sb, s, strlen(s));
}

int strbuf_addc(struct strbuf *sb, char c)
{
	return strbuf_add(sb, &c, 1);
}

int strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (sb->failed)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || reserve(sb, (size_t)n) < 0)
		return fail(sb);
	va_start(ap, fmt);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
	return 0;
}

int strbuf_add_json_string(struct strbuf *sb, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	strbuf_addc(sb, '"');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			char esc[2] = { '\\', (char)c };

			strbuf_add(sb, esc, 2);
		} else if (c == '\n') {
			strbuf_add(sb, "\\n", 2);
		} else if (c == '\r') {
			strbuf_add(sb, "\\r", 2);
		} else if (c == '\t') {
			strbuf_add(sb, "\\t", 2);
		} else if (c < 0x20 || c == 0x7f) {
			char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

			strbuf_add(sb, u, 6);
		} else {
			strbuf_addc(sb, (char)c);
		}
	}
	return strbuf_addc(sb, '"');
}

const char *strbuf_cstr(const struct strbuf *sb)
{
	if (sb->failed)
		return NULL;
	return sb->buf ? sb->buf : "";
}
