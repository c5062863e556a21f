/* keyhash.h: the hash of an in-memory table's key (never stored, never sent elsewhere) */
#ifndef IL_KEYHASH_H
#define IL_KEYHASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * Mixes a word at a time, then the tail a byte at a time (FNV-1a's prime):
 * fast on blob ids, tokens and URLs alike. Inline: the planner's caches call
 * it once per file.
 */
static inline uint64_t key_hash(const void *key, size_t n)
{
	const unsigned char *k = key;
	uint64_t h = n * 0x9E3779B97F4A7C15ULL, w;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&w, k + i, 8);
		h = (h ^ w) * 0xFF51AFD7ED558CCDULL;
		h ^= h >> 32;
	}
	for (; i < n; i++)
		h = (h ^ k[i]) * 1099511628211ULL;
	return h ^ h >> 29;
}

#endif
