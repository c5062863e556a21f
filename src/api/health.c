/* health.c: liveness (no I/O) and readiness (database and migrations) */
#include "api/api.h"

#include "build-config.h"
#include "db/migrate.h"
#include "util/error.h"

/* 200 {"status":"ok","version"}; never touches the database. */
int api_health_get(struct req *r)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "status", json_object_new_string("ok"));
	json_object_object_add(o, "version", json_object_new_string(PACKAGE_VERSION));
	req_json(r, 200, o);
	return 0;
}

/*
 * 200 {"status":"ready"} when the database answers and every migration in
 * sql_dir is applied; 503 {"status":"not_ready","reason"} otherwise.
 */
int api_ready_get(struct req *r)
{
	const struct api_ctx *ctx = r->ctx;
	const char *reason = NULL;
	json_object *o = json_object_new_object();
	int rc;

	rc = migrate_check(r->db, r->arena, ctx->migrations, ctx->nmigrations, &reason);
	if (rc == 0) {
		json_object_object_add(o, "status", json_object_new_string("ready"));
		req_json(r, 200, o);
		return 0;
	}
	json_object_object_add(o, "status", json_object_new_string("not_ready"));
	json_object_object_add(o, "reason",
			       json_object_new_string(reason ? reason : "not ready"));
	req_header_add(r, "Retry-After", "1");
	req_json(r, 503, o);
	return 0;
}
