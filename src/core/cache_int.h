/* cache_int.h: the parse cache's internals shared by project.c, hash.c and cache_entry.c */
#ifndef IL_CACHE_INT_H
#define IL_CACHE_INT_H
#include <stddef.h>

#include "core/diag.h"
#include "core/model.h"

struct arena;
struct parse_cache;

/* A content hash computed once for a cached file, with the model names its
 * refs stood for (NULL for unresolved): reusable when they match. */
struct hash_memo {
	int valid;
	int changed;              /* since the store last got it */
	const char **resolved;    /* one per ref */
	char hash[IL_SHA256_HEX_LEN + 1];
};

/* One file as parsed: diags have no file (replayed under each path). */
struct cache_entry {
	unsigned char key[32];
	size_t key_len;
	struct model *tmpl;      /* as parsed, before any project touched it;
				    NULL: the file gave no usable model */
	int unsaved;             /* parsed here: the store has not got it */
	struct diag *diags;
	size_t n_diags;
};

struct cache_entry *cache__lookup(struct parse_cache *c, const void *key,
				  size_t n);
/* Stores the file's model (NULL when unusable) and diags [from, dl->n);
 * gives m a memo shared with every later copy. 0 or IL_ENOMEM. */
int cache__store(struct parse_cache *c, const void *key, size_t n,
		 struct model *m, const struct diag_list *dl, size_t from);
/* A copy of a cached model for a project: its own path and refs. */
int cache__copy_model(struct model **out, const struct model *tmpl,
		      struct arena *a, const char *path);
/* A fresh copy of the entry's model under path (NULL when the file had
 * none), its diags replayed into dl. 0 or IL_ENOMEM. */
int cache__clone(struct model **out, const struct cache_entry *e,
		 struct arena *a, const char *path, struct diag_list *dl);

/* A malloc'd byte buffer for encoded entries, reused; zero when empty.
 * borrowed: p is someone else's (an arena's): growing copies it into a
 * malloc'd one, freeing leaves it. */
struct entry_buf {
	char *p;
	size_t len;
	size_t cap;
	int failed;
	int borrowed;
};
void cache__buf_free(struct entry_buf *b);
/* The bytes of one entry (layout in cache_entry.c); *text_off (unless
 * NULL) where the model's text starts in them. 0 or IL_ENOMEM. */
int cache__encode(struct entry_buf *b, const struct model *m,
		  const struct diag *diags, size_t n_diags, size_t *text_off);
/* Fills e's model, diags and memo (in a) from untrusted bytes: 0, or
 * IL_EINVALID when they are not an entry this version wrote. */
int cache__decode(struct cache_entry *e, struct arena *a, const void *data,
		  size_t len);
#endif
