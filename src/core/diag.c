/* diag.c: problems found in a project, each with file, line and message */
#include "core/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/arena.h"

void diag_list_init(struct diag_list *dl, struct arena *a)
{
	memset(dl, 0, sizeof(*dl));
	dl->arena = a;
}

static int grow(struct diag_list *dl)
{
	size_t cap = dl->cap ? dl->cap * 2 : 16;
	struct diag *items;

	items = arena_calloc(dl->arena, cap, sizeof(*items));
	if (items == NULL)
		return -1;
	if (dl->n)
		memcpy(items, dl->items, dl->n * sizeof(*items));
	dl->items = items;
	dl->cap = cap;
	return 0;
}

void diag_add(struct diag_list *dl, enum diag_severity sev, const char *file,
	      unsigned line, const char *fmt, ...)
{
	char buf[1024];
	struct diag *d;
	va_list ap;

	if (dl->n == dl->cap && grow(dl) < 0) {
		dl->oom = 1;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	d = &dl->items[dl->n];
	d->file = file ? file : "";
	d->line = line;
	d->severity = sev;
	d->message = arena_strdup(dl->arena, buf);
	if (d->message == NULL) {
		dl->oom = 1;
		return;
	}
	dl->n++;
	if (sev == DIAG_ERROR)
		dl->n_errors++;
}

static int diag_cmp(const void *pa, const void *pb)
{
	const struct diag *a = pa, *b = pb;
	int c = strcmp(a->file, b->file);

	if (c)
		return c;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	if (a->severity != b->severity)
		return a->severity < b->severity ? -1 : 1;
	return strcmp(a->message, b->message);
}

void diag_list_sort(struct diag_list *dl)
{
	if (dl->n > 1)
		qsort(dl->items, dl->n, sizeof(*dl->items), diag_cmp);
}
