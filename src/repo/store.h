/* store.h: parsed model files kept beyond one request, in memory and in a cache file */
#ifndef IL_STORE_H
#define IL_STORE_H
#include <stddef.h>
#include <stdint.h>

struct arena;
struct parse_store;
struct parse_store_ops;

/*
 * A bounded store of encoded parse cache entries by key (see
 * parse_store_ops in core/project.h): a worker keeps one for its life, the
 * CLI loads one from its cache file and saves it back. Entries are
 * evicted least recently used first, by generation: the store's
 * generation moves on at each trim (a worker: once per request) and each
 * save. NULL when memory runs out.
 */
struct parse_store *parse_store_new(size_t max_bytes);
void parse_store_free(struct parse_store *s);

/* get/put for parse_cache_set_store(c, &parse_store_ops, s). */
extern const struct parse_store_ops parse_store_ops;

/*
 * For a store that lives until the process ends (the CLI's): entries may
 * then be put without a copy, from an arena the store takes over and
 * frees with itself (a worker's store copies, so that it can evict).
 * adopt returns 0, or -1 when the store does not take arenas (a is still
 * the caller's); put_kept 0 or -1.
 */
void parse_store_keep_all(struct parse_store *s);
int parse_store_keeps_all(const struct parse_store *s);
int parse_store_adopt(struct parse_store *s, struct arena *a);
int parse_store_put_kept(struct parse_store *s, const void *key,
			 size_t key_len, const void *data, size_t len);

/* Room for more entries at once (instead of growing the table step by
 * step as they come): 0, or -1 when memory runs out. */
int parse_store_reserve(struct parse_store *s, size_t more);

/* Evicts down to the bound and starts a new generation. */
void parse_store_trim(struct parse_store *s);

struct parse_store_info {
	size_t entries;
	size_t bytes;         /* what the bound is compared with */
	uint64_t generation;
	int changed;          /* put since it was loaded (worth saving) */
};
void parse_store_get_info(const struct parse_store *s,
			  struct parse_store_info *out);

/*
 * The cache file image. load takes an image (malloc'd; the store owns it
 * from then on, entries point into it) into an empty store; anything but
 * an intact image of this format and PARSE_CACHE_VERSION (magic, sizes,
 * checksums, every entry in bounds) is refused whole with IL_EINVALID and
 * the store stays empty. write gives out the payload (the entries, most
 * recently used first, as many as the bound allows) piece by piece, then
 * fills header, which goes in front of it. load: 0, IL_EINVALID; write:
 * 0, IL_ERR (out failed) or IL_ENOMEM.
 */
#define STORE_HEADER_BYTES 56
int parse_store_load(struct parse_store *s, void *image, size_t len);
/* The same for an image mmap'd read-only (the store munmaps it). */
int parse_store_load_mapped(struct parse_store *s, void *image, size_t len);
/* The image's 64-bit checksum (header fields at 40 and 48), for tools and
 * tests that make images by hand. */
uint64_t parse_store_checksum(const void *data, size_t n);
int parse_store_write(const struct parse_store *s,
		      int (*out)(void *ctx, const void *p, size_t n),
		      void *ctx, unsigned char header[STORE_HEADER_BYTES]);

/*
 * The cache file on disk: mapped and loaded (IL_ENOTFOUND when there
 * is none, IL_EINVALID when it is refused: the caller just goes on
 * without it; the mapping lives as long as the store), or written to a
 * temporary file in the same directory and renamed over the old one, so
 * a reader sees a whole file, old or new, and two writers at once both
 * succeed (the last rename wins).
 */
int parse_store_read_file(struct parse_store *s, const char *path);
int parse_store_write_file(const struct parse_store *s, const char *path);

/*
 * The CLI's cache directory: $XDG_CACHE_HOME/ironlayer, else
 * $HOME/.cache/ironlayer (an absolute path is required), created 0700.
 * -1 when there is none or it cannot be made.
 */
int cache_dir_open(char *out, size_t size);

/* Deletes the oldest cache files of dir until they fit in max_total
 * bytes, and temporary files a crashed run left (older than an hour). */
void cache_dir_evict(const char *dir, size_t max_total);
#endif
