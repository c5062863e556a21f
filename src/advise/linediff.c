/* linediff.c (advise): line diff of two SQL texts for risk size and prompts */
#include <stdint.h>
#include <string.h>

#include "advise/advise.h"
#include "util/arena.h"
#include "util/strbuf.h"

/* Beyond this many cells the LCS table is skipped for a cruder count. */
#define MAX_CELLS (4u * 1024 * 1024)

struct lines {
	const char **p;
	size_t *len;
	size_t n;
};

static int split(struct lines *l, struct arena *a, const char *s)
{
	size_t n = 1, i;
	const char *c;

	for (c = s; *c; c++)
		n += *c == '\n';
	l->p = arena_calloc(a, n, sizeof(*l->p));
	l->len = arena_calloc(a, n, sizeof(*l->len));
	if (l->p == NULL || l->len == NULL)
		return -1;
	for (i = 0, c = s; *c; i++) {
		const char *e = strchr(c, '\n');
		size_t len = e ? (size_t)(e - c) : strlen(c);

		l->p[i] = c;
		l->len[i] = len;
		c += len + (e != NULL);
	}
	l->n = i;
	return 0;
}

static int same(const struct lines *x, size_t i, const struct lines *y, size_t j)
{
	return x->len[i] == y->len[j] && memcmp(x->p[i], y->p[j], x->len[i]) == 0;
}

static void emit(struct strbuf *sb, size_t *left, const char *prefix,
		 const struct lines *l, size_t i)
{
	if (sb == NULL || *left == 0)
		return;
	strbuf_adds(sb, prefix);
	strbuf_add(sb, l->p[i], l->len[i]);
	strbuf_addc(sb, '\n');
	(*left)--;
}

/* Walks the LCS table t ((n+1) x (m+1), suffix lengths) from the top. */
static size_t walk(struct strbuf *sb, size_t left, const struct lines *x,
		   const struct lines *y, const uint32_t *t)
{
	size_t i = 0, j = 0, w = y->n + 1, changed = 0;

	while (i < x->n || j < y->n) {
		if (i < x->n && j < y->n && same(x, i, y, j)) {
			emit(sb, &left, "  ", x, i);
			i++;
			j++;
		} else if (i < x->n && (j == y->n || t[(i + 1) * w + j] >= t[i * w + j + 1])) {
			emit(sb, &left, "- ", x, i++);
			changed++;
		} else {
			emit(sb, &left, "+ ", y, j++);
			changed++;
		}
	}
	return changed;
}

/* Too large for a table: every line outside the common prefix and suffix. */
static size_t crude(struct strbuf *sb, size_t left, const struct lines *x,
		    const struct lines *y)
{
	size_t pre = 0, suf = 0, i;

	while (pre < x->n && pre < y->n && same(x, pre, y, pre))
		pre++;
	while (suf < x->n - pre && suf < y->n - pre &&
	       same(x, x->n - 1 - suf, y, y->n - 1 - suf))
		suf++;
	for (i = pre; i < x->n - suf; i++)
		emit(sb, &left, "- ", x, i);
	for (i = pre; i < y->n - suf; i++)
		emit(sb, &left, "+ ", y, i);
	return (x->n - pre - suf) + (y->n - pre - suf);
}

size_t advise_line_diff(struct strbuf *diff, struct arena *a, const char *old_text,
			const char *new_text, size_t max_lines)
{
	struct lines x, y;
	uint32_t *t;
	size_t i, j, w;

	if (split(&x, a, old_text ? old_text : "") < 0 ||
	    split(&y, a, new_text ? new_text : "") < 0)
		return 0;
	if (diff == NULL)
		max_lines = 0;
	w = y.n + 1;
	if ((x.n + 1) * w > MAX_CELLS ||
	    (t = arena_calloc(a, (x.n + 1) * w, sizeof(*t))) == NULL)
		return crude(diff, max_lines, &x, &y);
	for (i = x.n; i-- > 0;)
		for (j = y.n; j-- > 0;)
			t[i * w + j] = same(&x, i, &y, j) ? t[(i + 1) * w + j + 1] + 1 :
				t[(i + 1) * w + j] > t[i * w + j + 1] ?
				t[(i + 1) * w + j] : t[i * w + j + 1];
	return walk(diff, max_lines, &x, &y, t);
}
