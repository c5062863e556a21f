/* config.c: ironlayer.conf (key = value) with IRONLAYER_* overrides */
#include "util/config.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/arena.h"
#include "util/ipmatch.h"
#include "util/parse.h"

#ifndef IL_SYSCONFDIR
#define IL_SYSCONFDIR "/etc"
#endif
#ifndef IL_DATADIR
#define IL_DATADIR "/usr/share/ironlayer"
#endif

enum key_type { K_STR, K_LONG, K_BOOL, K_DOUBLE, K_LOGLEVEL };

struct key {
	const char *name;
	enum key_type type;
	size_t offset;
	const char *def;   /* default as text; NULL = unset */
	long min, max;     /* K_LONG bounds */
	unsigned need;     /* required by programs needing this */
};

#define OFF(f) offsetof(struct il_config, f)
static const struct key keys[] = {
	{ "database_url", K_STR, OFF(database_url), NULL, 0, 0, CONFIG_NEED_DB },
	{ "migrate_database_url", K_STR, OFF(migrate_database_url), NULL, 0, 0, 0 },
	{ "listen_socket", K_STR, OFF(listen_socket), "/run/ironlayer/fcgi.sock", 0, 0, 0 },
	{ "jwt_secret", K_STR, OFF(jwt_secret), NULL, 0, 0, CONFIG_NEED_SECRETS },
	{ "jwt_issuer", K_STR, OFF(jwt_issuer), "ironlayer", 0, 0, 0 },
	{ "access_token_ttl", K_LONG, OFF(access_token_ttl), "900", 60, 86400, 0 },
	{ "refresh_token_ttl", K_LONG, OFF(refresh_token_ttl), "1209600", 300, 31536000, 0 },
	{ "master_key", K_STR, OFF(master_key_hex), NULL, 0, 0, CONFIG_NEED_SECRETS },
	{ "master_key_version", K_LONG, OFF(master_key_version), "1", 1, 255, 0 },
	{ "master_key_previous", K_STR, OFF(master_key_previous_hex), "", 0, 0, 0 },
	{ "master_key_previous_version", K_LONG, OFF(master_key_previous_version), "0", 0, 255, 0 },
	{ "repo_roots", K_STR, OFF(repo_roots), "/var/lib/ironlayer/repos", 0, 0, 0 },
	{ "shared_repo_roots", K_STR, OFF(shared_repo_roots), "", 0, 0, 0 },
	{ "warehouse_dsn", K_STR, OFF(warehouse_dsn), "", 0, 0, 0 },
	{ "warehouse_admin_dsn", K_STR, OFF(warehouse_admin_dsn), "", 0, 0, 0 },
	{ "warehouse_shared_schemas", K_STR, OFF(warehouse_shared_schemas), "raw", 0, 0, 0 },
	{ "warehouse_allowed_hosts", K_STR, OFF(warehouse_allowed_hosts), "", 0, 0, 0 },
	{ "warehouse_template_db", K_STR, OFF(warehouse_template_db),
	  "ironlayer_wh_template", 0, 0, 0 },
	{ "warehouse_shared_server", K_STR, OFF(warehouse_shared_server),
	  "ironlayer_wh_shared", 0, 0, 0 },
	{ "warehouse_shared_reader", K_STR, OFF(warehouse_shared_reader),
	  "ironlayer_wh_reader", 0, 0, 0 },
	{ "warehouse_connection_limit", K_LONG, OFF(warehouse_connection_limit), "4", 1, 1000, 0 },
	{ "databricks_timeout_seconds", K_LONG, OFF(databricks_timeout_seconds),
	  "3600", 1, 86400, 0 },
	{ "databricks_poll_interval_ms", K_LONG, OFF(databricks_poll_interval_ms),
	  "1000", 10, 60000, 0 },
	{ "databricks_max_retries", K_LONG, OFF(databricks_max_retries), "5", 0, 20, 0 },
	{ "databricks_allowed_hosts", K_STR, OFF(databricks_allowed_hosts),
	  "*.cloud.databricks.com, *.azuredatabricks.net, *.gcp.databricks.com", 0, 0, 0 },
	{ "databricks_ca_file", K_STR, OFF(databricks_ca_file), "", 0, 0, 0 },
	{ "max_body_bytes", K_LONG, OFF(max_body_bytes), "1048576", 1024, 67108864, 0 },
	{ "log_level", K_LOGLEVEL, OFF(log_level), "info", 0, 0, 0 },
	{ "allow_signup", K_BOOL, OFF(allow_signup), "true", 0, 0, 0 },
	{ "trusted_proxies", K_STR, OFF(trusted_proxies), "", 0, 0, 0 },
	{ "login_max_failures_per_account", K_LONG, OFF(login_max_failures_per_account), "5",
	  1, 1000000, 0 },
	{ "login_max_failures_per_address", K_LONG, OFF(login_max_failures_per_address), "50",
	  1, 1000000, 0 },
	{ "login_failure_window_seconds", K_LONG, OFF(login_failure_window_seconds), "900",
	  60, 86400, 0 },
	{ "signup_max_per_address_per_hour", K_LONG, OFF(signup_max_per_address_per_hour), "10",
	  1, 1000000, 0 },
	{ "cors_allowed_origins", K_STR, OFF(cors_allowed_origins), "", 0, 0, 0 },
	{ "argon2_memory_kib", K_LONG, OFF(argon2_memory_kib), "19456", 19456, 4194304, 0 },
	{ "argon2_iterations", K_LONG, OFF(argon2_iterations), "2", 2, 100, 0 },
	{ "argon2_parallelism", K_LONG, OFF(argon2_parallelism), "1", 1, 64, 0 },
	{ "cost_per_compute_second", K_DOUBLE, OFF(cost_per_compute_second), "0.0007", 0, 0, 0 },
	{ "default_lookback_days", K_LONG, OFF(default_lookback_days), "30", 1, 3650, 0 },
	{ "statement_timeout_ms", K_LONG, OFF(statement_timeout_ms), "300000", 100, 86400000, 0 },
	{ "step_timeout_seconds", K_LONG, OFF(step_timeout_seconds), "900", 1, 86400, 0 },
	{ "apply_timeout_seconds", K_LONG, OFF(apply_timeout_seconds), "3600", 1, 86400, 0 },
	{ "warehouse_connect_timeout_seconds", K_LONG, OFF(warehouse_connect_timeout_seconds), "10",
	  2, 300, 0 },
	{ "apply_workers", K_LONG, OFF(apply_workers), "2", 1, 256, 0 },
	{ "run_dir", K_STR, OFF(run_dir), "/run/ironlayer-apply", 0, 0, 0 },
	{ "models_dir", K_STR, OFF(models_dir), "models", 0, 0, 0 },
	{ "sql_dir", K_STR, OFF(sql_dir), IL_DATADIR "/sql", 0, 0, 0 },
	{ "stripe_secret_key", K_STR, OFF(stripe_secret_key), "", 0, 0, 0 },
	{ "stripe_webhook_secret", K_STR, OFF(stripe_webhook_secret), "", 0, 0, 0 },
	{ "stripe_api_base", K_STR, OFF(stripe_api_base), "https://api.stripe.com", 0, 0, 0 },
	{ "stripe_timeout_seconds", K_LONG, OFF(stripe_timeout_seconds), "20", 1, 300, 0 },
	{ "stripe_webhook_tolerance", K_LONG, OFF(stripe_webhook_tolerance), "300", 1, 86400, 0 },
	{ "billing_allowed_hosts", K_STR, OFF(billing_allowed_hosts), "localhost", 0, 0, 0 },
	{ "anthropic_api_base", K_STR, OFF(anthropic_api_base),
	  "https://api.anthropic.com", 0, 0, 0 },
	{ "openai_api_base", K_STR, OFF(openai_api_base), "https://api.openai.com", 0, 0, 0 },
	{ "llm_timeout_seconds", K_LONG, OFF(llm_timeout_seconds), "30", 1, 600, 0 },
	{ "llm_test_timeout_seconds", K_LONG, OFF(llm_test_timeout_seconds), "10", 1, 120, 0 },
	{ "llm_max_tokens", K_LONG, OFF(llm_max_tokens), "2048", 16, 32768, 0 },
	{ "llm_default_model_anthropic", K_STR, OFF(llm_default_model_anthropic),
	  "claude-sonnet-4-5", 0, 0, 0 },
	{ "llm_default_model_openai", K_STR, OFF(llm_default_model_openai),
	  "gpt-4o-mini", 0, 0, 0 },
	{ "ai_advisory_enabled", K_BOOL, OFF(ai_advisory_enabled), "true", 0, 0, 0 },
#define TIER_KEYS(name, i, label, plans, envs, ai, applies)                              \
	{ "tier_" name "_price_id", K_STR, OFF(tier[i].price_id), "", 0, 0, 0 },          \
	{ "tier_" name "_price_label", K_STR, OFF(tier[i].price_label), label, 0, 0, 0 }, \
	{ "tier_" name "_plans_per_month", K_LONG, OFF(tier[i].plans_per_month), plans,   \
	  -1, 100000000, 0 },                                                               \
	{ "tier_" name "_environments", K_LONG, OFF(tier[i].environments), envs,          \
	  -1, 100000, 0 },                                                                  \
	{ "tier_" name "_ai_augment", K_BOOL, OFF(tier[i].ai_augment), ai, 0, 0, 0 },     \
	{ "tier_" name "_max_concurrent_applies", K_LONG,                                 \
	  OFF(tier[i].max_concurrent_applies), applies, -1, 1000, 0 },
	TIER_KEYS("community", IL_TIER_COMMUNITY, "Free", "25", "2", "false", "1")
	TIER_KEYS("team", IL_TIER_TEAM, "", "1000", "10", "true", "3")
	TIER_KEYS("enterprise", IL_TIER_ENTERPRISE, "", "-1", "-1", "true", "-1")
#undef TIER_KEYS
};
#undef OFF

const char *config_default_path(void)
{
	return IL_SYSCONFDIR "/ironlayer/ironlayer.conf";
}

static const struct key *find_key(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* Stores text as the value of key k; -1 with err filled when invalid. */
static int set_value(struct il_config *cfg, struct arena *a, const struct key *k,
		     const char *text, const char *where, char *err, size_t errlen)
{
	char *field = (char *)cfg + k->offset;
	int64_t l;
	int b;
	double d;
	enum il_log_level lv;

	switch (k->type) {
	case K_STR: {
		const char *s = arena_strdup(a, text);

		if (s == NULL)
			goto bad;
		memcpy(field, &s, sizeof(s));
		return 0;
	}
	case K_LONG:
		if (parse_i64(text, k->min, k->max, &l) < 0) {
			snprintf(err, errlen, "%s: %s must be a whole number from %ld to %ld",
				 where, k->name, k->min, k->max);
			return -1;
		}
		*(long *)(void *)field = (long)l;
		return 0;
	case K_BOOL:
		if (parse_bool(text, &b) < 0)
			goto bad;
		*(int *)(void *)field = b;
		return 0;
	case K_DOUBLE:
		if (parse_double(text, &d) < 0 || d < 0)
			goto bad;
		*(double *)(void *)field = d;
		return 0;
	case K_LOGLEVEL:
		if (log_level_parse(text, &lv) < 0)
			goto bad;
		*(enum il_log_level *)(void *)field = lv;
		return 0;
	}
bad:
	snprintf(err, errlen, "%s: invalid value for %s", where, k->name);
	return -1;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int read_file(struct il_config *cfg, struct arena *a, const char *path,
		     int must_exist, char *err, size_t errlen)
{
	char line[IL_MAX_CONFIG_LINE], where[IL_MAX_CONFIG_LINE / 4];
	FILE *f = fopen(path, "r");
	int lineno = 0, rc = 0;

	if (f == NULL) {
		if (!must_exist && errno == ENOENT)
			return 0;
		snprintf(err, errlen, "cannot read config file %s: %s", path, strerror(errno));
		return -1;
	}
	cfg->path = arena_strdup(a, path);
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		char *s, *eq, *name, *value;
		const struct key *k;

		lineno++;
		snprintf(where, sizeof(where), "%s:%d", path, lineno);
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(err, errlen, "%s: line too long", where);
			rc = -1;
			break;
		}
		s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (eq == NULL) {
			snprintf(err, errlen, "%s: expected key = value", where);
			rc = -1;
			break;
		}
		*eq = '\0';
		name = trim(s);
		value = trim(eq + 1);
		k = find_key(name);
		if (k == NULL) {
			snprintf(err, errlen, "%s: unknown key '%.64s'", where, name);
			rc = -1;
			break;
		}
		rc = set_value(cfg, a, k, value, where, err, errlen);
	}
	fclose(f);
	return rc;
}

/* IRONLAYER_<KEY>: the environment variable that overrides key. */
static void env_name(char *var, size_t size, const char *key)
{
	size_t j;

	snprintf(var, size, "IRONLAYER_");
	for (j = 0; key[j] != '\0' && 10 + j < size - 1; j++)
		var[10 + j] = (char)toupper((unsigned char)key[j]);
	var[10 + j] = '\0';
}

static int read_environment(struct il_config *cfg, struct arena *a, char *err,
			    size_t errlen)
{
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char var[96];
		const char *v;

		env_name(var, sizeof(var), keys[i].name);
		v = getenv(var);
		if (v != NULL && set_value(cfg, a, &keys[i], v, var, err, errlen) < 0)
			return -1;
	}
	return 0;
}

/* Splits a colon-separated list of absolute directories (key names it in errors). */
static int split_roots(const char **out, int *n, const char *key, const char *text,
		       struct arena *a, char *err, size_t errlen)
{
	char *copy = arena_strdup(a, text), *tok, *save = NULL;

	if (copy == NULL)
		return -1;
	*n = 0;
	for (tok = strtok_r(copy, ":", &save); tok != NULL;
	     tok = strtok_r(NULL, ":", &save)) {
		if (tok[0] != '/') {
			snprintf(err, errlen, "%s: '%.200s' is not an absolute path", key, tok);
			return -1;
		}
		if (*n == IL_MAX_REPO_ROOTS) {
			snprintf(err, errlen, "%s: at most %d roots", key, IL_MAX_REPO_ROOTS);
			return -1;
		}
		out[(*n)++] = tok;
	}
	return 0;
}

static int split_repo_roots(struct il_config *cfg, struct arena *a, char *err,
			    size_t errlen)
{
	if (split_roots(cfg->repo_root, &cfg->n_repo_roots, "repo_roots", cfg->repo_roots, a,
			err, errlen) < 0)
		return -1;
	return split_roots(cfg->shared_repo_root, &cfg->n_shared_repo_roots,
			   "shared_repo_roots", cfg->shared_repo_roots, a, err, errlen);
}

static int check_required(struct il_config *cfg, unsigned need, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v;

		if (!(keys[i].need & need) || keys[i].type != K_STR)
			continue;
		memcpy(&v, (char *)cfg + keys[i].offset, sizeof(v));
		if (v == NULL || *v == '\0') {
			char var[96];

			env_name(var, sizeof(var), keys[i].name);
			if (cfg->path != NULL)
				snprintf(err, errlen, "%s is required: set it in %s, or set %s",
					 keys[i].name, cfg->path, var);
			else
				snprintf(err, errlen, "%s is required: no config file at %s "
					 "(name one with --config FILE or IRONLAYER_CONFIG; "
					 "./dev up writes var/ironlayer.conf) or set %s",
					 keys[i].name, config_default_path(), var);
			return -1;
		}
	}
	if (need & CONFIG_NEED_SECRETS) {
		if (strlen(cfg->jwt_secret) < 32) {
			snprintf(err, errlen, "jwt_secret must be at least 32 bytes");
			return -1;
		}
		if (hex_decode(cfg->master_key_hex, cfg->master_key, 32) < 0) {
			snprintf(err, errlen, "master_key must be 64 hex digits (32 bytes)");
			return -1;
		}
		if (*cfg->master_key_previous_hex != '\0' &&
		    (hex_decode(cfg->master_key_previous_hex, cfg->master_key_previous, 32) < 0 ||
		     cfg->master_key_previous_version == 0 ||
		     cfg->master_key_previous_version == cfg->master_key_version)) {
			snprintf(err, errlen, "master_key_previous must be 64 hex digits, with a "
				 "master_key_previous_version other than master_key_version");
			return -1;
		}
	}
	return 0;
}

/* Each trusted_proxies entry is an IPv4/IPv6 address, optionally /prefix. */
static int check_trusted_proxies(const struct il_config *cfg, struct arena *a, char *err,
				 size_t errlen)
{
	char *copy = arena_strdup(a, cfg->trusted_proxies), *tok, *save = NULL;

	if (copy == NULL)
		return -1;
	for (tok = strtok_r(copy, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save))
		if (ip_match(tok, NULL) < 0) {
			snprintf(err, errlen, "trusted_proxies: '%.100s' is not an IP address or"
				 " address/prefix", tok);
			return -1;
		}
	return 0;
}

/*
 * Each cors_allowed_origins entry is an origin as browsers send it:
 * http(s)://host[:port], no path, never "*" (credentials are allowed).
 */
static int check_cors_origins(const struct il_config *cfg, struct arena *a, char *err,
			      size_t errlen)
{
	char *copy = arena_strdup(a, cfg->cors_allowed_origins), *tok, *save = NULL;

	if (copy == NULL)
		return -1;
	for (tok = strtok_r(copy, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save)) {
		const char *host = strncmp(tok, "https://", 8) == 0 ? tok + 8 :
				   strncmp(tok, "http://", 7) == 0 ? tok + 7 : NULL;

		if (host == NULL || *host == '\0' || strpbrk(host, "/?#*@") != NULL) {
			snprintf(err, errlen, "cors_allowed_origins: '%.100s' is not an origin"
				 " (scheme://host[:port], no path, no wildcard)", tok);
			return -1;
		}
	}
	return 0;
}

int config_load(struct il_config *cfg, struct arena *a, const char *path,
		unsigned need, char *err, size_t errlen)
{
	size_t i;
	int explicit_path = path != NULL;

	memset(cfg, 0, sizeof(*cfg));
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (keys[i].def != NULL &&
		    set_value(cfg, a, &keys[i], keys[i].def, "default", err, errlen) < 0)
			return -1;
	if (path == NULL)
		path = getenv("IRONLAYER_CONFIG");
	if (path != NULL)
		explicit_path = 1;
	else
		path = config_default_path();
	if (read_file(cfg, a, path, explicit_path, err, errlen) < 0 ||
	    read_environment(cfg, a, err, errlen) < 0 ||
	    split_repo_roots(cfg, a, err, errlen) < 0 ||
	    check_trusted_proxies(cfg, a, err, errlen) < 0 ||
	    check_cors_origins(cfg, a, err, errlen) < 0)
		return -1;
	if (cfg->migrate_database_url == NULL)
		cfg->migrate_database_url = cfg->database_url;
	log_set_level(cfg->log_level);
	return check_required(cfg, need, err, errlen);
}
