/* cli_migrate.c: ironlayer migrate */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "bin/cli.h"
#include "bin/cli_out.h"
#include "db/db.h"
#include "db/migrate.h"
#include "util/arena.h"
#include "util/config.h"

/* {"migrations": n, "applied": [names]} from the "applied NAME" lines of migrate_apply. */
static int print_json(int n, char *lines)
{
	json_object *o = json_object_new_object(), *list = json_object_new_array();
	char *line, *save = NULL;
	int rc;

	for (line = strtok_r(lines, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, "applied ", 8) == 0)
			json_object_array_add(list, json_object_new_string(line + 8));
	json_object_object_add(o, "migrations", json_object_new_int(n));
	json_object_object_add(o, "applied", list);
	rc = cli_print_json(o);
	json_object_put(o);
	return rc;
}

/*
 * Applies every pending migration from sql_dir as the owner role; with
 * --json, says which as JSON instead of a line each.
 */
int cli_migrate(int argc, char **argv)
{
	int json = argc == 2 && strcmp(argv[1], "--json") == 0, n = 0, rc = 1;
	struct arena *a;
	struct il_config cfg;
	struct migration *m;
	struct db db;
	char err[512], *applied = NULL;
	size_t applied_len = 0;
	FILE *log;

	if (argc != 1 && !json)
		return cli_usage_error("migrate");
	if ((a = arena_new(0)) == NULL)
		return 1;
	log = json ? open_memstream(&applied, &applied_len) : stdout;
	if (log == NULL ||
	    config_load(&cfg, a, cli_config_path, CONFIG_NEED_DB, err, sizeof(err)) < 0 ||
	    migrate_scan(&m, &n, a, cfg.sql_dir, err, sizeof(err)) < 0) {
		fprintf(stderr, "ironlayer migrate: %s\n", log ? err : "out of memory");
		goto out;
	}
	db_init(&db, cfg.migrate_database_url);
	if (migrate_apply(&db, a, m, n, log, err, sizeof(err)) < 0)
		fprintf(stderr, "ironlayer migrate: %s\n", err);
	else
		rc = 0;
	if (rc == 0 && !json)
		printf("%d migrations, all applied\n", n);
	db_close(&db);
out:
	if (json && log != NULL) {
		fclose(log);
		if (rc == 0)
			rc = print_json(n, applied ? applied : (char *)"");
	}
	free(applied);
	arena_free(a);
	return rc;
}
