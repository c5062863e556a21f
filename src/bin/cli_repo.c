/* cli_repo.c: ironlayer repo add — a repository placed in a tenant's own root */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "bin/cli.h"
#include "bin/cli_out.h"
#include "db/admin.h"
#include "db/auth.h"
#include "db/db.h"
#include "repo/repo.h"
#include "util/arena.h"
#include "util/config.h"
#include "util/error.h"

#define MAX_NAME 100

/* 1 when name is one plain directory name: [A-Za-z0-9._-], not starting with a dot. */
static int name_ok(const char *name)
{
	size_t n = strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				"0123456789._-");

	return n > 0 && n <= MAX_NAME && name[n] == '\0' && name[0] != '.';
}

/* NAME when given, else SOURCE's last path component without a trailing ".git". */
static const char *repo_name(struct arena *a, const char *source, const char *given)
{
	char *name, *slash;
	size_t n;

	if (given != NULL)
		return given;
	name = arena_strdup(a, source);
	if (name == NULL)
		return NULL;
	for (n = strlen(name); n > 1 && name[n - 1] == '/'; n--)
		name[n - 1] = '\0';
	slash = strrchr(name, '/');
	if (slash != NULL)
		name = slash + 1;
	if ((slash = strrchr(name, ':')) != NULL)   /* host:path.git */
		name = slash + 1;
	n = strlen(name);
	if (n > 4 && strcmp(name + n - 4, ".git") == 0)
		name[n - 4] = '\0';
	return name;
}

/* Creates dir (mode 0755, readable by the workers) unless it exists. */
static int ensure_dir(const char *dir)
{
	if (mkdir(dir, 0755) == 0 || errno == EEXIST)
		return 0;
	fprintf(stderr, "ironlayer repo add: cannot create %s: %s\n", dir, strerror(errno));
	return -1;
}

/* {"repo_path", "tenant_id", "name"}: where the clone went, for --json. */
static int print_placed_json(const char *path, const char *tenant, const char *name)
{
	json_object *o = json_object_new_object();
	int rc;

	json_object_object_add(o, "repo_path", json_object_new_string(path));
	json_object_object_add(o, "tenant_id", json_object_new_string(tenant));
	json_object_object_add(o, "name", json_object_new_string(name));
	rc = cli_print_json(o);
	json_object_put(o);
	return rc;
}

/* Clones source into <root>/<tenant>/<name> and prints where it went. */
static int place(const struct il_config *cfg, const char *tenant, const char *source,
		 const char *name, int json)
{
	char tenant_dir[PATH_MAX], dest[PATH_MAX], real[PATH_MAX], err[512];
	const char *where;
	struct stat st;

	if (cfg->n_repo_roots == 0) {
		fprintf(stderr, "ironlayer repo add: repo_roots is empty in the configuration\n");
		return 1;
	}
	if ((size_t)snprintf(tenant_dir, sizeof(tenant_dir), "%s/%s", cfg->repo_root[0],
			     tenant) >= sizeof(tenant_dir) ||
	    (size_t)snprintf(dest, sizeof(dest), "%s/%s", tenant_dir, name) >= sizeof(dest)) {
		fprintf(stderr, "ironlayer repo add: the path is too long\n");
		return 1;
	}
	if (ensure_dir(cfg->repo_root[0]) < 0 || ensure_dir(tenant_dir) < 0)
		return 1;
	if (lstat(dest, &st) == 0) {
		fprintf(stderr, "ironlayer repo add: %s already exists\n", dest);
		return 1;
	}
	if (repo_clone_bare(source, dest, err, sizeof(err)) != 0) {
		fprintf(stderr, "ironlayer repo add: cannot clone %s: %s\n", source, err);
		return 1;
	}
	where = realpath(dest, real) != NULL ? real : dest;
	if (json)
		return print_placed_json(where, tenant, name);
	printf("%s\n", where);
	return 0;
}

static int repo_add(int argc, char **argv)
{
	const char *tenant_arg = NULL, *pos[2] = { NULL, NULL }, *tenant = NULL, *name;
	int json = 0, n, rc;
	const struct cli_opt opts[] = {
		{ "--tenant", &tenant_arg, NULL }, { "--json", NULL, &json }, { NULL, NULL, NULL }
	};
	struct il_config cfg;
	struct arena *a;
	struct db db;
	char err[512];

	if ((n = cli_parse("repo", argc, argv, opts, pos, 2)) < 0)
		return n == CLI_PARSE_HELP ? 0 : 2;
	if (tenant_arg == NULL || pos[0] == NULL)
		return cli_usage_error("repo");
	if ((a = arena_new(0)) == NULL)
		return 1;
	name = repo_name(a, pos[0], pos[1]);
	if (name == NULL || !name_ok(name)) {
		fprintf(stderr, "ironlayer repo add: NAME must be letters, digits, '.', '_' or '-' "
				"(not starting with '.'), at most %d\n", MAX_NAME);
		arena_free(a);
		return name == NULL ? 1 : 2;
	}
	if (config_load(&cfg, a, cli_config_path, CONFIG_NEED_DB, err, sizeof(err)) < 0) {
		fprintf(stderr, "ironlayer repo: %s\n", err);
		arena_free(a);
		return 1;
	}
	db_init(&db, cfg.migrate_database_url);   /* the owner role: no tenant is bound yet */
	rc = db_admin_tenant_resolve(&tenant, &db, a, tenant_arg);
	if (rc == 0)
		rc = place(&cfg, tenant, pos[0], name, json);
	else
		fprintf(stderr, "ironlayer repo add: %s\n", rc == IL_ENOTFOUND ?
			"no tenant with this id and no user with this email" :
			"database error (see the log)");
	if (rc == 0 && db_audit_append(&db, a, tenant, "cli", "repository_added", "repository",
				       name, NULL) < 0) {
		fprintf(stderr, "ironlayer repo add: the audit log was not written\n");
		rc = 1;
	}
	db_close(&db);
	arena_free(a);
	return rc == 0 ? 0 : 1;
}

int cli_repo(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "add") == 0)
		return repo_add(argc - 1, argv + 1);
	return cli_usage_error("repo");
}
