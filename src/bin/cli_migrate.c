/* cli_migrate.c: ironlayer migrate */
#include <stdio.h>

#include "bin/cli.h"
#include "db/db.h"
#include "db/migrate.h"
#include "util/arena.h"
#include "util/config.h"

/* Applies every pending migration from sql_dir as the owner role. */
int cli_migrate(int argc, char **argv)
{
	struct arena *a = arena_new(0);
	struct il_config cfg;
	struct migration *m;
	struct db db;
	char err[512];
	int n, rc = 1;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: ironlayer migrate\n");
		arena_free(a);
		return 2;
	}
	if (a == NULL)
		return 1;
	if (config_load(&cfg, a, cli_config_path, CONFIG_NEED_DB, err, sizeof(err)) < 0 ||
	    migrate_scan(&m, &n, a, cfg.sql_dir, err, sizeof(err)) < 0) {
		fprintf(stderr, "ironlayer migrate: %s\n", err);
		goto out;
	}
	db_init(&db, cfg.migrate_database_url);
	if (migrate_apply(&db, a, m, n, stdout, err, sizeof(err)) < 0)
		fprintf(stderr, "ironlayer migrate: %s\n", err);
	else
		rc = 0;
	if (rc == 0)
		printf("%d migrations, all applied\n", n);
	db_close(&db);
out:
	arena_free(a);
	return rc;
}
