/* config.h: ironlayer.conf (key = value) with IRONLAYER_* overrides */
#ifndef IL_CONFIG_H
#define IL_CONFIG_H

#include <stddef.h>

#include "util/limits.h"
#include "util/log.h"

struct arena;

/* What a program needs from the config; config_load checks these are set. */
enum config_need {
	CONFIG_NEED_NOTHING = 0,
	CONFIG_NEED_DB = 1,      /* database_url */
	CONFIG_NEED_SECRETS = 2  /* jwt_secret, master_key */
};

struct il_config {
	const char *path;                 /* the file read, or NULL */
	const char *database_url;         /* the workers' role (no table owner) */
	const char *migrate_database_url; /* the owner role; defaults to database_url */
	const char *listen_socket;
	const char *jwt_secret;
	const char *jwt_issuer;
	long access_token_ttl;
	long refresh_token_ttl;
	const char *master_key_hex;
	unsigned char master_key[32];
	const char *repo_roots;           /* colon-separated, as written */
	const char *repo_root[IL_MAX_REPO_ROOTS];
	int n_repo_roots;
	const char *warehouse_dsn;
	const char *warehouse_admin_dsn;
	long max_body_bytes;
	enum il_log_level log_level;
	int allow_signup;
	const char *trusted_proxies;
	long argon2_memory_kib;
	long argon2_iterations;
	long argon2_parallelism;
	double cost_per_compute_second;
	long default_lookback_days;
	long statement_timeout_ms;
	const char *models_dir;
	const char *sql_dir;              /* the numbered migrations */
};

/*
 * Fills cfg from defaults, then the file (path, else $IRONLAYER_CONFIG, else
 * the system file; a missing system file is not an error), then IRONLAYER_<KEY>
 * environment variables. Strings live in arena a. On failure returns -1 and
 * writes one line for the operator into err.
 */
int config_load(struct il_config *cfg, struct arena *a, const char *path,
		unsigned need, char *err, size_t errlen);
/* The default config file path. */
const char *config_default_path(void);

#endif
