/* password.h: Argon2id password hashing (PHC strings) */
#ifndef IL_PASSWORD_H
#define IL_PASSWORD_H

struct arena;
struct il_config;

/* Hashes password with the configured Argon2id parameters; PHC string or NULL. */
char *password_hash(struct arena *a, const struct il_config *cfg, const char *password);
/* 1 when password matches the PHC string, else 0. */
int password_verify(const char *phc, const char *password);
/*
 * Spends the same time as a verification against a real hash, for logins
 * with an unknown email (so timing does not reveal which emails exist).
 */
void password_burn(struct arena *a, const struct il_config *cfg, const char *password);

#endif
