/* arena.c: region allocator with cleanup hooks */
#include "util/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define ARENA_ALIGN 16
#define ARENA_DEFAULT_BLOCK (64 * 1024)

struct block {
	struct block *next;
	size_t size;   /* usable bytes in data */
	size_t used;
	_Alignas(ARENA_ALIGN) unsigned char data[];
};

struct cleanup {
	struct cleanup *next;
	void (*fn)(void *);
	void *ptr;
};

struct arena {
	struct block *head;     /* current block; the first block is last */
	struct cleanup *cleanups;
	size_t block_size;
	size_t used;
	unsigned long fail_countdown;
};

/* Blocks this big go in 2 MiB pages where the kernel gives them on
 * request: a block of 4 KiB pages costs a fault per page as it fills, and
 * a large plan fills hundreds of MiB. */
#define ARENA_HUGE ((size_t)2 << 20)

static struct block *block_new(size_t size)
{
	struct block *b;
	void *p;

	if (size > SIZE_MAX - sizeof(*b))
		return NULL;
	if (sizeof(*b) + size < ARENA_HUGE) {
		b = malloc(sizeof(*b) + size);
	} else {
		b = posix_memalign(&p, ARENA_HUGE, sizeof(*b) + size) == 0 ?
			p : NULL;
		if (b != NULL)   /* a hint only: it may fail */
			madvise(b, (sizeof(*b) + size) & ~(ARENA_HUGE - 1),
				MADV_HUGEPAGE);
	}
	if (b == NULL)
		return NULL;
	b->next = NULL;
	b->size = size;
	b->used = 0;
	return b;
}

struct arena *arena_new(size_t block_size)
{
	struct arena *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->block_size = block_size ? block_size : ARENA_DEFAULT_BLOCK;
	a->head = block_new(a->block_size);
	if (a->head == NULL) {
		free(a);
		return NULL;
	}
	return a;
}

static void run_cleanups(struct arena *a)
{
	while (a->cleanups != NULL) {
		struct cleanup *c = a->cleanups;

		a->cleanups = c->next;
		c->fn(c->ptr);
	}
}

void arena_reset(struct arena *a)
{
	if (a == NULL)
		return;
	run_cleanups(a);
	while (a->head->next != NULL) {
		struct block *b = a->head;

		a->head = b->next;
		free(b);
	}
	a->head->used = 0;
	a->used = 0;
}

void arena_free(struct arena *a)
{
	if (a == NULL)
		return;
	arena_reset(a);
	free(a->head);
	free(a);
}

static int injected_failure(struct arena *a)
{
	if (a->fail_countdown == 0)
		return 0;
	return --a->fail_countdown == 0;
}

void *arena_alloc(struct arena *a, size_t n)
{
	struct block *b = a->head;
	size_t start;

	if (injected_failure(a))
		return NULL;
	if (n == 0)
		n = 1;
	if (n > SIZE_MAX - ARENA_ALIGN)
		return NULL;
	start = (b->used + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (start > b->size || n > b->size - start) {
		size_t want = n > a->block_size / 4 ? n : a->block_size;
		struct block *nb = block_new(want);

		if (nb == NULL)
			return NULL;
		if (want == n && b->next != NULL) {
			/* a big allocation gets its own block behind the current one,
			 * so the rest of the current block stays usable */
			nb->next = b->next;
			b->next = nb;
			nb->used = n;
			a->used += n;
			return nb->data;
		}
		nb->next = b;
		a->head = nb;
		b = nb;
		start = 0;
	}
	b->used = start + n;
	a->used += n;
	return b->data + start;
}

void *arena_calloc(struct arena *a, size_t count, size_t size)
{
	size_t n;
	void *p;

	if (__builtin_mul_overflow(count, size, &n))
		return NULL;
	p = arena_alloc(a, n);
	if (p != NULL)
		memset(p, 0, n);
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p;

	if (n == SIZE_MAX)
		return NULL;
	p = arena_alloc(a, n + 1);
	if (p == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	p = arena_alloc(a, (size_t)n + 1);
	if (p == NULL)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

int arena_on_reset(struct arena *a, void (*fn)(void *), void *ptr)
{
	struct cleanup *c = arena_alloc(a, sizeof(*c));

	if (c == NULL) {
		fn(ptr);
		return -1;
	}
	c->fn = fn;
	c->ptr = ptr;
	c->next = a->cleanups;
	a->cleanups = c;
	return 0;
}

size_t arena_used(const struct arena *a)
{
	return a->used;
}

void arena_fail_after(struct arena *a, unsigned long nth)
{
	a->fail_countdown = nth;
}
