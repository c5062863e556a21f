/* cli_diff.c: a unified diff of two texts, for `ironlayer plan --diff` */
#include "bin/cli_diff.h"

#include <stdint.h>
#include <string.h>

#include "bin/cli_out.h"
#include "util/arena.h"
#include "util/error.h"

#define CONTEXT 3
#define MAX_CELLS ((size_t)4 << 20)     /* lines(a) x lines(b) we compare */

struct line {
	const char *p;
	size_t n;
};

struct lines {
	struct line *v;
	size_t n;
};

/* One step of the edit script: ' ' both, '-' only in a, '+' only in b. */
struct op {
	char kind;
	size_t a, b;          /* 0-based line numbers in a and b (the next ones for + and -) */
};

static int split(struct lines *l, struct arena *a, const char *text, size_t len)
{
	size_t i, start = 0, n = 0;

	for (i = 0; i < len; i++)
		n += text[i] == '\n';
	l->v = arena_calloc(a, n + 2, sizeof(*l->v));
	l->n = 0;
	if (l->v == NULL)
		return IL_ENOMEM;
	for (i = 0; i <= len; i++) {
		if (i < len && text[i] != '\n')
			continue;
		if (i == len && start == len)
			break;                   /* no line after a final newline */
		l->v[l->n].p = text + start;
		l->v[l->n++].n = i - start;
		start = i + 1;
	}
	return 0;
}

static int same(const struct line *x, const struct line *y)
{
	return x->n == y->n && memcmp(x->p, y->p, x->n) == 0;
}

/* t[i][j]: the longest common subsequence of a[i..] and b[j..]. */
static uint32_t *lcs(struct arena *a, const struct lines *x, const struct lines *y)
{
	size_t w = y->n + 1, i, j;
	uint32_t *t = arena_calloc(a, (x->n + 1) * w, sizeof(*t));

	if (t == NULL)
		return NULL;
	for (i = x->n; i-- > 0;)
		for (j = y->n; j-- > 0;)
			t[i * w + j] = same(&x->v[i], &y->v[j]) ? t[(i + 1) * w + j + 1] + 1 :
				t[(i + 1) * w + j] > t[i * w + j + 1] ? t[(i + 1) * w + j] :
				t[i * w + j + 1];
	return t;
}

static struct op *script(struct arena *a, const struct lines *x, const struct lines *y,
			 const uint32_t *t, size_t *n_ops)
{
	struct op *ops = arena_calloc(a, x->n + y->n + 1, sizeof(*ops));
	size_t i = 0, j = 0, n = 0, w = y->n + 1;

	if (ops == NULL)
		return NULL;
	while (i < x->n || j < y->n) {
		/* removals before additions, as diff -u writes them */
		int drop = i < x->n && (j == y->n || t[(i + 1) * w + j] >= t[i * w + j + 1]);
		char k = i < x->n && j < y->n && same(&x->v[i], &y->v[j]) ? ' ' : drop ? '-' : '+';

		ops[n++] = (struct op){ k, i, j };
		i += k != '+';
		j += k != '-';
	}
	*n_ops = n;
	return ops;
}

static void print_line(FILE *out, char kind, const struct line *l, int colour)
{
	enum cli_colour c = kind == '+' ? C_GREEN : kind == '-' ? C_RED : C_RESET;

	fprintf(out, "%s%c%.*s%s\n", kind == ' ' ? "" : cli_c(colour, c), kind, (int)l->n, l->p,
		kind == ' ' ? "" : cli_c(colour, C_RESET));
}

/* The hunk of ops[from..to) with its @@ line. */
static void print_hunk(FILE *out, const struct op *ops, size_t from, size_t to,
		       const struct lines *x, const struct lines *y, int colour)
{
	size_t k, na = 0, nb = 0;

	for (k = from; k < to; k++) {
		na += ops[k].kind != '+';
		nb += ops[k].kind != '-';
	}
	fprintf(out, "%s@@ -%zu,%zu +%zu,%zu @@%s\n", cli_c(colour, C_CYAN),
		ops[from].a + (na > 0), na, ops[from].b + (nb > 0), nb, cli_c(colour, C_RESET));
	for (k = from; k < to; k++)
		print_line(out, ops[k].kind, ops[k].kind == '+' ? &y->v[ops[k].b] : &x->v[ops[k].a],
			   colour);
}

static void print_hunks(FILE *out, const struct op *ops, size_t n, const struct lines *x,
			const struct lines *y, int colour)
{
	size_t k = 0;

	while (k < n) {
		size_t start, end, last;

		while (k < n && ops[k].kind == ' ')
			k++;
		if (k == n)
			break;
		start = k > CONTEXT ? k - CONTEXT : 0;
		/* extend while the next change is within two contexts of the last one */
		for (last = k, end = k; end < n; end++) {
			if (ops[end].kind != ' ')
				last = end;
			else if (end - last > 2 * CONTEXT)
				break;
		}
		end = last + CONTEXT + 1 < n ? last + CONTEXT + 1 : n;
		print_hunk(out, ops, start, end, x, y, colour);
		k = end;
	}
}

int cli_diff(FILE *out, struct arena *a, const char *name_a, const char *text_a, size_t len_a,
	     const char *name_b, const char *text_b, size_t len_b, int colour)
{
	struct lines x, y;
	uint32_t *t;
	struct op *ops;
	size_t n;

	if (split(&x, a, text_a, len_a) < 0 || split(&y, a, text_b, len_b) < 0)
		return IL_ENOMEM;
	fprintf(out, "%s--- %s\n+++ %s%s\n", cli_c(colour, C_BOLD), name_a, name_b,
		cli_c(colour, C_RESET));
	if ((x.n + 1) * (y.n + 1) > MAX_CELLS) {
		fprintf(out, "(%zu and %zu lines: too long to compare here)\n", x.n, y.n);
		return 0;
	}
	if ((t = lcs(a, &x, &y)) == NULL || (ops = script(a, &x, &y, t, &n)) == NULL)
		return IL_ENOMEM;
	print_hunks(out, ops, n, &x, &y, colour);
	return 0;
}
