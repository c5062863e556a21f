/* blob_check.c: a blob's bytes against its id with OpenSSL's SHA-1, for the runs that opt in */
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "repo/repo_int.h"

/*
 * libgit2's strict verification hashes every object with its own SHA-1,
 * which also detects SHA-1 collision attacks and costs about 45
 * instructions a byte: a fifth of a cold plan. OpenSSL's SHA-1 uses the
 * CPU's SHA instructions and costs a tenth of that; it finds every blob
 * whose bytes are not those its id names (damaged, overwritten), but not
 * one half of a crafted collision. See repo_check_blobs_fast.
 */
static EVP_MD *sha1_md;
static pthread_once_t sha1_once = PTHREAD_ONCE_INIT;

static void fetch_sha1(void)
{
	sha1_md = EVP_MD_fetch(NULL, "SHA1", NULL);
}

struct blob_check *repo__blob_check_new(void)
{
	EVP_MD_CTX *ctx;

	pthread_once(&sha1_once, fetch_sha1);
	if (sha1_md == NULL || (ctx = EVP_MD_CTX_new()) == NULL)
		return NULL;
	return (struct blob_check *)ctx;
}

void repo__blob_check_free(struct blob_check *bc)
{
	EVP_MD_CTX_free((EVP_MD_CTX *)bc);
}

int repo__blob_matches(struct blob_check *bc, const unsigned char *id,
		       const void *data, size_t len)
{
	EVP_MD_CTX *ctx = (EVP_MD_CTX *)bc;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	char header[32];
	int n = snprintf(header, sizeof(header), "blob %zu", len);

	/* git hashes "blob <size>\0" and then the bytes */
	if (n < 0 || (size_t)n >= sizeof(header) ||
	    EVP_DigestInit_ex(ctx, sha1_md, NULL) != 1 ||
	    EVP_DigestUpdate(ctx, header, (size_t)n + 1) != 1 ||
	    EVP_DigestUpdate(ctx, data, len) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &md_len) != 1)
		return -1;
	return md_len == GIT_OID_RAWSZ && memcmp(md, id, GIT_OID_RAWSZ) == 0;
}
