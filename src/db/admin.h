/* admin.h (db): operator tasks run by the CLI as the owner role */
#ifndef IL_DB_ADMIN_H
#define IL_DB_ADMIN_H

#include <stdio.h>

struct arena;
struct db;

/* Prints the tenant's users as tab-separated lines; IL_ENOTFOUND for no tenant. */
int db_admin_user_list(struct db *db, struct arena *a, const char *tenant_id, FILE *out);
/* Changes a user's role (read on every request: takes effect at once). */
int db_admin_user_set_role(struct db *db, struct arena *a, const char *email,
			   const char *role);
/*
 * Disables a user, ends the user's access tokens (token epoch) and revokes
 * every refresh token the user holds.
 */
int db_admin_user_disable(struct db *db, struct arena *a, const char *email);
/* The tenant of a user, for audit rows; IL_ENOTFOUND. */
int db_admin_user_tenant(const char **tenant_id, struct db *db, struct arena *a,
			 const char *email);
/*
 * The tenant named by its id or by the email of one of its users (either
 * case); IL_ENOTFOUND when neither exists.
 */
int db_admin_tenant_resolve(const char **tenant_id, struct db *db, struct arena *a,
			    const char *id_or_email);

/*
 * Recomputes every audit chain. Returns 0 when intact; IL_ESTALE with
 * *bad_id and *why naming the first broken row; other codes on errors.
 */
int db_audit_verify(long long *checked, const char **bad_id, const char **why,
		    struct db *db, struct arena *a);

#endif
