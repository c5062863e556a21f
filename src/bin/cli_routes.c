/* cli_routes.c: ironlayer routes — the API's route table as JSON, for docs and tests */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "api/api.h"
#include "bin/cli.h"
#include "bin/cli_out.h"

/* One route as {"method", "pattern", "min_role", "public", "json_body", "long", "tag"}. */
static json_object *route_json(const struct route *rt)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "method", json_object_new_string(rt->method));
	json_object_object_add(o, "pattern", json_object_new_string(rt->pattern));
	json_object_object_add(o, "min_role", json_object_new_string(role_name(rt->min_role)));
	json_object_object_add(o, "public",
			       json_object_new_boolean((rt->flags & ROUTE_PUBLIC) != 0));
	json_object_object_add(o, "json_body",
			       json_object_new_boolean((rt->flags & ROUTE_JSON_BODY) != 0));
	json_object_object_add(o, "long", json_object_new_boolean((rt->flags & ROUTE_LONG) != 0));
	json_object_object_add(o, "tag", json_object_new_string(rt->tag ? rt->tag : ""));
	return o;
}

/*
 * Prints every route of api_app() as one JSON array, in table order. Needs
 * no configuration and no database: the table is static.
 */
int cli_routes(int argc, char **argv)
{
	const struct http_app *app = api_app();
	json_object *list;
	size_t i;
	int rc;

	/* JSON is all it writes: --json is accepted for symmetry */
	if (argc > 2 || (argc == 2 && strcmp(argv[1], "--json") != 0))
		return cli_usage_error("routes");
	list = json_object_new_array();
	if (list == NULL)
		return 1;
	for (i = 0; i < app->nroutes; i++)
		json_object_array_add(list, route_json(&app->routes[i]));
	rc = puts(json_object_to_json_string_ext(list, JSON_C_TO_STRING_PRETTY |
						 JSON_C_TO_STRING_SPACED |
						 JSON_C_TO_STRING_NOSLASHESCAPE)) < 0 ||
	     fflush(stdout) != 0;
	json_object_put(list);
	if (rc) {
		perror("ironlayer routes");
		return 1;
	}
	return 0;
}
