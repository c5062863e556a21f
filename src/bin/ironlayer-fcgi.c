/* ironlayer-fcgi.c: the FastCGI worker (one of a spawn-fcgi pool) */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <fcgiapp.h>

#include "api/api.h"
#include "build-config.h"
#include "db/db.h"
#include "db/migrate.h"
#include "exec/exec.h"
#include "http/server.h"
#include "util/arena.h"
#include "util/config.h"
#include "util/log.h"

static void usage(void)
{
	fprintf(stderr, "usage: ironlayer-fcgi [--config FILE] [--listen SOCKET]\n"
			"Serves FastCGI on fd 0 (as started by spawn-fcgi), or on SOCKET.\n");
}

int main(int argc, char **argv)
{
	const char *config_path = NULL, *listen_path = NULL;
	struct arena *life = arena_new(0);
	struct il_config cfg;
	struct api_ctx ctx;
	struct migration *m = NULL;
	struct db db;
	char err[512];
	int i, fd = 0, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			config_path = argv[++i];
		} else if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc) {
			listen_path = argv[++i];
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("ironlayer-fcgi %s\n", PACKAGE_VERSION);
			return 0;
		} else {
			usage();
			return 2;
		}
	}
	if (life == NULL ||
	    config_load(&cfg, life, config_path, CONFIG_NEED_DB | CONFIG_NEED_SECRETS,
			err, sizeof(err)) < 0 ||
	    exec_outbound_check_config(&cfg, err, sizeof(err)) < 0 ||
	    migrate_scan(&m, &ctx.nmigrations, life, cfg.sql_dir, err, sizeof(err)) < 0) {
		fprintf(stderr, "ironlayer-fcgi: %s\n", life ? err : "out of memory");
		arena_free(life);
		return 1;
	}
	ctx.migrations = m;
	if (listen_path != NULL) {
		if (FCGX_Init() != 0 || (fd = FCGX_OpenSocket(listen_path, 128)) < 0) {
			fprintf(stderr, "ironlayer-fcgi: cannot listen on %s\n", listen_path);
			arena_free(life);
			return 1;
		}
	}
	/* once, before any request: libcurl's implicit init is not thread-safe */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "ironlayer-fcgi: cannot initialise libcurl\n");
		arena_free(life);
		return 1;
	}
	db_init(&db, cfg.database_url);
	log_info("worker started (version %s)", PACKAGE_VERSION);
	rc = http_serve(api_app(), &cfg, &db, &ctx, fd);
	log_info("worker stopping");
	db_close(&db);
	curl_global_cleanup();
	arena_free(life);
	return rc == 0 ? 0 : 1;
}
