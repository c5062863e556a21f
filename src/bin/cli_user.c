/* cli_user.c: ironlayer user add|list|set-role|disable, ironlayer audit verify */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "bin/cli.h"
#include "bin/cli_out.h"
#include "db/admin.h"
#include "db/auth.h"
#include "db/db.h"
#include "http/password.h"
#include "http/req.h"
#include "util/arena.h"
#include "util/config.h"
#include "util/error.h"

struct session {
	struct arena *a;
	struct il_config cfg;
	struct db db;
};

/* Loads the config and connects as the owner role (no row-level security). */
static int open_session(struct session *s, const char *who)
{
	char err[512];

	s->a = arena_new(0);
	if (s->a == NULL)
		return -1;
	if (config_load(&s->cfg, s->a, cli_config_path, CONFIG_NEED_DB, err, sizeof(err)) < 0) {
		fprintf(stderr, "ironlayer %s: %s\n", who, err);
		arena_free(s->a);
		return -1;
	}
	db_init(&s->db, s->cfg.migrate_database_url);
	return 0;
}

static void close_session(struct session *s)
{
	db_close(&s->db);
	arena_free(s->a);
}

/* The options of every user subcommand; each takes the ones it names. */
struct user_args {
	const char *tenant, *email, *role, *name;
	int json;
};

/* Parses `user SUB ...` (argv[0] is SUB); returns 0, or the exit status to end with. */
static int parse_user_args(struct user_args *ua, int argc, char **argv)
{
	const struct cli_opt opts[] = {
		{ "--tenant", &ua->tenant, NULL }, { "--email", &ua->email, NULL },
		{ "--role", &ua->role, NULL }, { "--display-name", &ua->name, NULL },
		{ "--json", NULL, &ua->json }, { NULL, NULL, NULL }
	};
	int n;

	memset(ua, 0, sizeof(*ua));
	n = cli_parse("user", argc, argv, opts, NULL, 0);
	return n == CLI_PARSE_HELP ? -1 : n < 0 ? 2 : 0;
}

/* {"id", "tenant_id", "email", "role", "disabled"}: what a subcommand did, for --json. */
static int print_user_json(const char *id, const char *tenant, const char *email,
			   const char *role, int disabled)
{
	json_object *o = json_object_new_object();
	int rc;

	if (id != NULL)
		json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "tenant_id", tenant ? json_object_new_string(tenant) : NULL);
	json_object_object_add(o, "email", json_object_new_string(email));
	if (role != NULL)
		json_object_object_add(o, "role", json_object_new_string(role));
	json_object_object_add(o, "disabled", json_object_new_boolean(disabled));
	rc = cli_print_json(o);
	json_object_put(o);
	return rc;
}

/* The new user's password: $IRONLAYER_PASSWORD, else the first line of stdin. */
static char *read_password(struct arena *a)
{
	const char *env = getenv("IRONLAYER_PASSWORD");
	char line[1100];
	size_t n;

	if (env != NULL)
		return arena_strdup(a, env);
	if (fgets(line, sizeof(line), stdin) == NULL)
		return NULL;
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	return arena_strdup(a, line);
}

/* 1 for a tenant id as IronLayer writes them: a UUID in its 36-character form. */
static int tenant_id_ok(const char *s)
{
	size_t i;

	if (strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++)
		if (i == 8 || i == 13 || i == 18 || i == 23 ? s[i] != '-'
							      : !isxdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* 1 after saying so when tenant is not a tenant id. */
static int bad_tenant(const char *what, const char *tenant)
{
	if (tenant == NULL || tenant_id_ok(tenant))
		return 0;
	fprintf(stderr, "ironlayer user %s: '%s' is not a tenant id (a UUID such as the "
		"tenant_id of the signup answer or of GET /api/v1/auth/me)\n", what, tenant);
	return 1;
}

static int report(const char *what, int rc)
{
	if (rc == 0)
		return 0;
	fprintf(stderr, "ironlayer user %s: %s\n", what,
		rc == IL_ENOTFOUND ? "no such user or tenant" :
		rc == IL_ECONFLICT ? "a user with this email already exists" :
		rc == IL_EINVALID ? "invalid value (role must be viewer, operator or admin)" :
		"database error (see the log)");
	return 1;
}

static int user_add(struct session *s, const struct user_args *ua)
{
	const char *id = NULL, *pw, *hash;
	int rc;

	if (ua->tenant == NULL || ua->email == NULL || ua->role == NULL ||
	    role_parse(ua->role) == ROLE_NONE) {
		fprintf(stderr, "usage: ironlayer user add --tenant ID --email EMAIL "
				"--role viewer|operator|admin [--display-name NAME] [--json]\n"
				"(password from $IRONLAYER_PASSWORD or the first line of stdin)\n");
		return 2;
	}
	if (bad_tenant("add", ua->tenant))
		return 1;
	pw = read_password(s->a);
	if (pw == NULL || strlen(pw) < 10 || strlen(pw) > 1024) {
		fprintf(stderr, "ironlayer user add: the password must be 10 to 1024 bytes\n");
		return 1;
	}
	hash = password_hash(s->a, &s->cfg, pw);
	if (hash == NULL)
		return 1;
	rc = db_user_create(&id, &s->db, s->a, ua->tenant, ua->email,
			    ua->name ? ua->name : ua->email, hash, ua->role);
	if (rc == 0)
		rc = db_audit_append(&s->db, s->a, ua->tenant, "cli", "user_added", "user", id,
				     NULL);
	if (report("add", rc))
		return 1;
	if (ua->json)
		return print_user_json(id, ua->tenant, ua->email, ua->role, 0);
	printf("%s\n", id);
	return 0;
}

/* The listing's tab-separated lines (a header, then a user each) as a JSON array. */
static int tsv_to_json(char *text)
{
	json_object *list = json_object_new_array();
	char *line, *save = NULL, *keys[8];
	int nkeys = 0, rc;

	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		json_object *u = nkeys ? json_object_new_object() : NULL;
		char *field, *fsave = NULL;
		int k = 0;

		for (field = strtok_r(line, "\t", &fsave); field != NULL && k < 8;
		     field = strtok_r(NULL, "\t", &fsave), k++) {
			if (nkeys == 0)
				keys[k] = field;
			else if (k < nkeys)
				json_object_object_add(u, keys[k], json_object_new_string(field));
		}
		if (nkeys == 0)
			nkeys = k;
		else
			json_object_array_add(list, u);
	}
	rc = cli_print_json(list);
	json_object_put(list);
	return rc;
}

static int list_users(struct session *s, const char *tenant, int json)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = json ? open_memstream(&text, &len) : stdout;
	int rc;

	if (f == NULL)
		return 1;
	rc = report("list", db_admin_user_list(&s->db, s->a, tenant, f));
	if (json) {
		fclose(f);
		if (rc == 0)
			rc = tsv_to_json(text);
		free(text);
	}
	return rc;
}

static int user_change(struct session *s, const struct user_args *ua, int disable)
{
	const char *tenant = NULL;
	int rc;

	if (ua->email == NULL ||
	    (!disable && (ua->role == NULL || role_parse(ua->role) == ROLE_NONE))) {
		fprintf(stderr, disable ? "usage: ironlayer user disable --email EMAIL [--json]\n" :
			"usage: ironlayer user set-role --email EMAIL --role viewer|operator|admin "
			"[--json]\n");
		return 2;
	}
	rc = db_admin_user_tenant(&tenant, &s->db, s->a, ua->email);
	if (rc == 0)
		rc = disable ? db_admin_user_disable(&s->db, s->a, ua->email) :
			       db_admin_user_set_role(&s->db, s->a, ua->email, ua->role);
	if (rc == 0)
		rc = db_audit_append(&s->db, s->a, tenant, "cli",
				     disable ? "user_disabled" : "user_role_changed", "user",
				     ua->email, NULL);
	if (report(disable ? "disable" : "set-role", rc))
		return 1;
	if (ua->json)
		return print_user_json(NULL, tenant, ua->email, disable ? NULL : ua->role, disable);
	if (disable)
		printf("%s is disabled\n", ua->email);
	else
		printf("%s is now %s\n", ua->email, ua->role);
	return 0;
}

int cli_user(int argc, char **argv)
{
	struct user_args ua;
	struct session s;
	const char *sub = argc > 1 ? argv[1] : "";
	int rc;

	if (strcmp(sub, "add") != 0 && strcmp(sub, "list") != 0 &&
	    strcmp(sub, "set-role") != 0 && strcmp(sub, "disable") != 0) {
		fprintf(stderr, "usage: ironlayer user add|list|set-role|disable ...\n");
		return 2;
	}
	if ((rc = parse_user_args(&ua, argc - 1, argv + 1)) != 0)
		return rc < 0 ? 0 : rc;
	if (strcmp(sub, "list") == 0 && ua.tenant == NULL)
		return cli_usage_error("user");
	if (open_session(&s, "user") < 0)
		return 1;
	if (strcmp(sub, "add") == 0)
		rc = user_add(&s, &ua);
	else if (strcmp(sub, "list") == 0)
		rc = bad_tenant("list", ua.tenant) ? 1 : list_users(&s, ua.tenant, ua.json);
	else
		rc = user_change(&s, &ua, strcmp(sub, "disable") == 0);
	close_session(&s);
	return rc;
}

/* {"intact", "rows_verified", "broken_at", "reason"} */
static void audit_json(int intact, long long n, const char *bad, const char *why)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "intact", json_object_new_boolean(intact));
	json_object_object_add(o, "rows_verified", json_object_new_int64(n));
	json_object_object_add(o, "broken_at", intact ? NULL : json_object_new_string(bad));
	json_object_object_add(o, "reason", intact ? NULL : json_object_new_string(why));
	cli_print_json(o);
	json_object_put(o);
}

int cli_audit(int argc, char **argv)
{
	struct session s;
	const char *bad = NULL, *why = NULL;
	long long n = 0;
	int rc;

	int json = argc == 3 && strcmp(argv[2], "--json") == 0;

	if ((argc != 2 && !json) || strcmp(argv[1], "verify") != 0)
		return cli_usage_error("audit");
	if (open_session(&s, "audit") < 0)
		return 1;
	rc = db_audit_verify(&n, &bad, &why, &s.db, s.a);
	if (json && (rc == 0 || rc == IL_ESTALE))
		audit_json(rc == 0, n, bad, why);
	else if (rc == 0)
		printf("audit log intact: %lld rows verified\n", n);
	else if (rc == IL_ESTALE)
		fprintf(stderr, "audit log broken at row %s: %s (%lld rows before it verified)\n",
			bad, why, n);
	else
		fprintf(stderr, "ironlayer audit verify: database error\n");
	close_session(&s);
	return rc == 0 ? 0 : 1;
}
