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

/* The tiers, in this order; community is every tenant's default. */
enum il_tier { IL_TIER_COMMUNITY, IL_TIER_TEAM, IL_TIER_ENTERPRISE, IL_TIER_COUNT };

/* One tier's Stripe price and limits; a limit of -1 means unlimited. */
struct il_tier_config {
	const char *price_id;             /* "" when the tier cannot be bought */
	const char *price_label;          /* shown to buyers, e.g. "$29/user/mo"; "" unknown */
	long plans_per_month;
	long environments;
	int ai_augment;
	long max_concurrent_applies;      /* applies of one tenant running at once */
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
	long master_key_version;          /* stamped on everything sealed now */
	const char *master_key_previous_hex; /* "" unless a rotation is under way */
	unsigned char master_key_previous[32];
	long master_key_previous_version;
	const char *repo_roots;           /* colon-separated, as written */
	const char *repo_root[IL_MAX_REPO_ROOTS];
	int n_repo_roots;                 /* a tenant plans under <root>/<tenant id>/ */
	const char *shared_repo_roots;    /* colon-separated: every tenant may plan here */
	const char *shared_repo_root[IL_MAX_REPO_ROOTS];
	int n_shared_repo_roots;
	const char *warehouse_dsn;
	const char *warehouse_admin_dsn;
	const char *warehouse_shared_schemas; /* source schemas every tenant role may read */
	const char *warehouse_allowed_hosts; /* non-public hosts/CIDRs a tenant DSN may reach */
	const char *warehouse_template_db;    /* each tenant database is made from it */
	const char *warehouse_shared_server;  /* its postgres_fdw server for the shared schemas */
	const char *warehouse_shared_reader;  /* the login of that server's user mapping */
	long warehouse_connection_limit;      /* CONNECTION LIMIT of each tenant role */
	long databricks_timeout_seconds;
	long databricks_poll_interval_ms;
	long databricks_max_retries;
	const char *databricks_allowed_hosts; /* the hosts a Databricks environment may name */
	const char *databricks_ca_file;   /* CA bundle for Databricks TLS; "" = the system's */
	long max_body_bytes;
	enum il_log_level log_level;
	int allow_signup;
	const char *trusted_proxies;      /* addresses/CIDRs whose X-Forwarded-For is believed */
	long login_max_failures_per_account; /* per window, from any address */
	long login_max_failures_per_address; /* per window, for any accounts */
	long login_failure_window_seconds;
	long signup_max_per_address_per_hour;
	const char *cors_allowed_origins; /* origins answered with CORS headers; "" none */
	long argon2_memory_kib;
	long argon2_iterations;
	long argon2_parallelism;
	double cost_per_compute_second;
	long default_lookback_days;
	long statement_timeout_ms;        /* the warehouse's own limit: SQL can lift it */
	long step_timeout_seconds;        /* the most one step may take: SQL cannot lift it */
	long apply_timeout_seconds;       /* the most one apply may take */
	long warehouse_connect_timeout_seconds;
	long apply_workers;               /* long requests (apply, generate, augment) at once */
	const char *run_dir;              /* the workers' runtime files: the apply slot locks */
	const char *models_dir;
	const char *sql_dir;              /* the numbered migrations */
	/* billing (Stripe); billing is off while stripe_secret_key is empty */
	const char *stripe_secret_key;
	const char *stripe_webhook_secret;
	const char *stripe_api_base;
	long stripe_timeout_seconds;
	long stripe_webhook_tolerance;    /* seconds a signed event stays valid */
	const char *billing_allowed_hosts; /* hosts checkout/portal URLs may name */
	struct il_tier_config tier[IL_TIER_COUNT]; /* community, team, enterprise */
	/* AI advisory: the LLM providers a tenant's own key is sent to */
	const char *anthropic_api_base;
	const char *openai_api_base;
	long llm_timeout_seconds;        /* one augment call */
	long llm_test_timeout_seconds;   /* the key test */
	long llm_max_tokens;             /* reply budget of one augment call */
	const char *llm_default_model_anthropic;
	const char *llm_default_model_openai;
	int ai_advisory_enabled;         /* a tenant's default until it says otherwise */
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
