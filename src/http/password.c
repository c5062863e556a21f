/* password.c: Argon2id password hashing (PHC strings) */
#include "http/password.h"

#include <string.h>

#include <argon2.h>

#include "util/arena.h"
#include "util/config.h"
#include "util/crypto.h"

#define SALT_LEN 16
#define HASH_LEN 32

char *password_hash(struct arena *a, const struct il_config *cfg, const char *password)
{
	unsigned char salt[SALT_LEN];
	uint32_t t = (uint32_t)cfg->argon2_iterations, m = (uint32_t)cfg->argon2_memory_kib;
	uint32_t p = (uint32_t)cfg->argon2_parallelism;
	size_t len = argon2_encodedlen(t, m, p, SALT_LEN, HASH_LEN, Argon2_id);
	char *out = arena_alloc(a, len);

	if (out == NULL || crypto_random(salt, sizeof(salt)) < 0)
		return NULL;
	if (argon2id_hash_encoded(t, m, p, password, strlen(password), salt, SALT_LEN,
				  HASH_LEN, out, len) != ARGON2_OK)
		return NULL;
	return out;
}

int password_verify(const char *phc, const char *password)
{
	if (strncmp(phc, "$argon2id$", 10) != 0)
		return 0;
	return argon2id_verify(phc, password, strlen(password)) == ARGON2_OK;
}

void password_burn(struct arena *a, const struct il_config *cfg, const char *password)
{
	/* hashing costs what verifying costs: the same Argon2id computation */
	(void)password_hash(a, cfg, password);
}
