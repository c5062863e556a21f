/* test_netguard.c: address classes, allow lists, tenant DSNs and Databricks URLs (no network) */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "exec/exec.h"
#include "exec/netguard.h"
#include "suites.h"
#include "util/arena.h"
#include "util/config.h"
#include "util/error.h"

static enum net_kind kind_of(const char *text)
{
	struct net_addr addr;

	ck_assert_msg(net_addr_parse(&addr, text) == 0, "%s does not parse", text);
	return net_classify(&addr);
}

START_TEST(test_netguard__classifies_every_non_public_range)
{
	static const struct {
		const char *addr;
		enum net_kind kind;
	} cases[] = {
		{ "127.0.0.1", NET_LOOPBACK }, { "127.255.0.9", NET_LOOPBACK }, { "::1", NET_LOOPBACK },
		{ "10.0.0.1", NET_PRIVATE }, { "172.16.0.1", NET_PRIVATE }, { "172.31.255.255", NET_PRIVATE },
		{ "192.168.1.1", NET_PRIVATE }, { "fd12:3456::1", NET_PRIVATE }, { "fc00::", NET_PRIVATE },
		{ "fec0::1", NET_PRIVATE },
		{ "100.64.0.1", NET_SHARED }, { "100.127.255.254", NET_SHARED },
		{ "169.254.169.254", NET_LINK_LOCAL }, { "fe80::1", NET_LINK_LOCAL },
		{ "febf::1", NET_LINK_LOCAL },
		{ "0.0.0.0", NET_UNSPECIFIED }, { "0.1.2.3", NET_UNSPECIFIED }, { "::", NET_UNSPECIFIED },
		{ "224.0.0.1", NET_MULTICAST }, { "239.255.255.250", NET_MULTICAST },
		{ "ff02::1", NET_MULTICAST },
		{ "255.255.255.255", NET_BROADCAST },
		{ "240.0.0.1", NET_RESERVED }, { "192.0.0.8", NET_RESERVED }, { "198.18.0.1", NET_RESERVED },
		{ "198.19.255.1", NET_RESERVED }, { "100::1", NET_RESERVED }, { "2001::1", NET_RESERVED },
		/* IPv6 forms carrying an IPv4 address are that address */
		{ "::ffff:127.0.0.1", NET_LOOPBACK }, { "::ffff:10.1.2.3", NET_PRIVATE },
		{ "::ffff:169.254.169.254", NET_LINK_LOCAL }, { "::127.0.0.1", NET_LOOPBACK },
		{ "64:ff9b::a00:1", NET_PRIVATE }, { "2002:7f00:1::", NET_LOOPBACK },
		{ "2002:c0a8:101::1", NET_PRIVATE }, { "::ffff:255.255.255.255", NET_BROADCAST },
		/* public, right next to the edges */
		{ "8.8.8.8", NET_PUBLIC }, { "172.32.0.1", NET_PUBLIC }, { "172.15.255.255", NET_PUBLIC },
		{ "100.128.0.1", NET_PUBLIC }, { "100.63.255.255", NET_PUBLIC }, { "192.169.0.1", NET_PUBLIC },
		{ "169.253.1.1", NET_PUBLIC }, { "223.255.255.255", NET_PUBLIC }, { "11.0.0.1", NET_PUBLIC },
		{ "198.20.0.1", NET_PUBLIC }, { "203.0.113.9", NET_PUBLIC },
		{ "2600:1f18::1", NET_PUBLIC }, { "::ffff:8.8.8.8", NET_PUBLIC }, { "2002:808:808::", NET_PUBLIC },
		{ "fe00::1", NET_PUBLIC },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(kind_of(cases[i].addr) == cases[i].kind, "%s: %s, expected %s",
			      cases[i].addr, net_kind_name(kind_of(cases[i].addr)),
			      net_kind_name(cases[i].kind));
}
END_TEST

START_TEST(test_netguard__cidr_parse_and_contains)
{
	struct net_cidr c;
	struct net_addr x;
	static const char *const bad[] = {
		"", "/8", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/-1", "10.0.0.0/8x",
		"10.1.0.0/8", "10.0.0", "example.com", "10.0.0.0/8/8", "fd00::1/8",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(net_cidr_parse(&c, bad[i]) < 0, "'%s' parsed", bad[i]);
	ck_assert_int_eq(net_cidr_parse(&c, "10.0.0.0/8"), 0);
	ck_assert_int_eq(c.prefix, 8);
	ck_assert_int_eq(net_addr_parse(&x, "10.255.1.2"), 0);
	ck_assert(net_cidr_contains(&c, &x));
	ck_assert_int_eq(net_addr_parse(&x, "::ffff:10.0.0.1"), 0);
	ck_assert(net_cidr_contains(&c, &x));           /* the mapped form is covered too */
	ck_assert_int_eq(net_addr_parse(&x, "11.0.0.1"), 0);
	ck_assert(!net_cidr_contains(&c, &x));
	ck_assert_int_eq(net_cidr_parse(&c, "127.0.0.7"), 0);
	ck_assert_int_eq(c.prefix, 32);
	ck_assert_int_eq(net_addr_parse(&x, "127.0.0.8"), 0);
	ck_assert(!net_cidr_contains(&c, &x));
	ck_assert_int_eq(net_cidr_parse(&c, "172.16.0.0/12"), 0);
	ck_assert_int_eq(net_addr_parse(&x, "172.31.9.9"), 0);
	ck_assert(net_cidr_contains(&c, &x));
	ck_assert_int_eq(net_addr_parse(&x, "172.32.0.0"), 0);
	ck_assert(!net_cidr_contains(&c, &x));
	ck_assert_int_eq(net_cidr_parse(&c, "fd00::/8"), 0);
	ck_assert_int_eq(net_addr_parse(&x, "fdff::1"), 0);
	ck_assert(net_cidr_contains(&c, &x));
	ck_assert_int_eq(net_addr_parse(&x, "10.0.0.1"), 0);
	ck_assert(!net_cidr_contains(&c, &x));           /* families never mix otherwise */
	ck_assert_int_eq(net_cidr_parse(&c, "0.0.0.0/0"), 0);
	ck_assert_int_eq(net_addr_parse(&x, "203.0.113.1"), 0);
	ck_assert(net_cidr_contains(&c, &x));
}
END_TEST

START_TEST(test_netguard__allow_list_names_patterns_and_ranges)
{
	struct arena *a = arena_new(0);
	struct net_allow allow;
	struct net_addr x;
	const char *err = NULL;

	ck_assert_int_eq(net_allow_parse(&allow, &err, a, " db.internal, *.Cloud.Databricks.com "
					 "10.1.0.0/16\t::1 127.0.0.7"), 0);
	ck_assert_uint_eq(allow.n_names, 2);
	ck_assert_uint_eq(allow.n_cidrs, 3);
	ck_assert(net_allow_name(&allow, "DB.internal"));
	ck_assert(!net_allow_name(&allow, "db.internal.evil.com"));
	ck_assert(!net_allow_name(&allow, "xdb.internal"));
	ck_assert(net_allow_name(&allow, "dbc-1.cloud.databricks.com"));
	ck_assert(net_allow_name(&allow, "a.b.cloud.databricks.com"));
	ck_assert(!net_allow_name(&allow, "cloud.databricks.com"));
	ck_assert(!net_allow_name(&allow, "evilcloud.databricks.com"));
	ck_assert(!net_allow_name(&allow, "dbc-1.cloud.databricks.com.evil.com"));
	ck_assert_int_eq(net_addr_parse(&x, "10.1.200.3"), 0);
	ck_assert(net_allow_addr(&allow, &x));
	ck_assert_int_eq(net_addr_parse(&x, "10.2.0.1"), 0);
	ck_assert(!net_allow_addr(&allow, &x));
	ck_assert_int_eq(net_addr_parse(&x, "::1"), 0);
	ck_assert(net_allow_addr(&allow, &x));
	ck_assert_int_eq(net_allow_parse(&allow, &err, a, ""), 0);
	ck_assert_uint_eq(allow.n_names + allow.n_cidrs, 0);
	ck_assert_int_eq(net_allow_parse(&allow, &err, a, "good.example, 10.0.0.0/33"), IL_EINVALID);
	ck_assert_ptr_nonnull(strstr(err, "'10.0.0.0/33'"));
	ck_assert_int_eq(net_allow_parse(&allow, &err, a, "http://x"), IL_EINVALID);
	ck_assert_int_eq(net_allow_parse(&allow, &err, a, "*."), IL_EINVALID);
	ck_assert_int_eq(net_allow_parse(&allow, &err, a, "a..b"), IL_EINVALID);
	arena_free(a);
}
END_TEST

START_TEST(test_netguard__every_resolved_address_is_checked)
{
	struct arena *a = arena_new(0);
	struct net_policy p;
	struct net_addr own;
	const char *addr, *why, *err;

	memset(&p, 0, sizeof(p));
	p.allow_key = "warehouse_allowed_hosts";
	p.names_exempt = 1;
	ck_assert_int_eq(net_allow_parse(&p.allow, &err, a, ""), 0);
	ck_assert_int_eq(net_resolve_checked(&addr, &why, a, &p, "203.0.113.10"), 0);
	ck_assert_str_eq(addr, "203.0.113.10");
	ck_assert_int_eq(net_resolve_checked(&addr, &why, a, &p, "127.0.0.1"), IL_EINVALID);
	ck_assert_str_eq(why, "address 127.0.0.1 is a loopback address (not in "
			 "warehouse_allowed_hosts)");
	ck_assert_ptr_null(addr);
	/* libc's other spellings of loopback are the same address */
	ck_assert_int_eq(net_resolve_checked(&addr, &why, a, &p, "2130706433"), IL_EINVALID);
	ck_assert_ptr_nonnull(strstr(why, "127.0.0.1, a loopback address"));
	ck_assert_int_eq(net_resolve_checked(&addr, &why, a, &p, "0x7f.1"), IL_EINVALID);
	ck_assert_int_eq(net_resolve_checked(&addr, &why, a, &p, "localhost"), IL_EINVALID);
	ck_assert_msg(strncmp(why, "host localhost resolves to ", 27) == 0, "%s", why);
	ck_assert_int_eq(net_resolve_checked(&addr, &why, a, &p, "::ffff:192.168.0.1"), IL_EINVALID);
	ck_assert_ptr_nonnull(strstr(why, "a private address"));
	ck_assert_int_eq(net_resolve_checked(&addr, &why, a, &p, "169.254.169.254"), IL_EINVALID);
	ck_assert_ptr_nonnull(strstr(why, "a link-local address"));
	ck_assert_int_eq(net_resolve_checked(&addr, &why, a, &p, "0.0.0.0"), IL_EINVALID);
	ck_assert_ptr_nonnull(strstr(why, "an unspecified address"));
	ck_assert_int_eq(net_resolve_checked(&addr, &why, a, &p, "/tmp/sock"), IL_EINVALID);

	/* the server's own database address, public or not, needs an explicit entry */
	ck_assert_int_eq(net_addr_parse(&own, "198.51.100.20"), 0);
	p.own = &own;
	p.n_own = 1;
	ck_assert_int_eq(net_resolve_checked(&addr, &why, a, &p, "198.51.100.20"), IL_EINVALID);
	ck_assert_ptr_nonnull(strstr(why, "this service's own databases"));
	ck_assert_int_eq(net_resolve_checked(&addr, &why, a, &p, "::ffff:198.51.100.20"),
			 IL_EINVALID);
	ck_assert_int_eq(net_allow_parse(&p.allow, &err, a, "198.51.100.0/24, localhost"), 0);
	ck_assert_int_eq(net_resolve_checked(&addr, &why, a, &p, "198.51.100.20"), 0);
	/* a name on the list lets its addresses through, unless names do not exempt */
	ck_assert_int_eq(net_resolve_checked(&addr, &why, a, &p, "localhost"), 0);
	p.names_exempt = 0;
	ck_assert_int_eq(net_resolve_checked(&addr, &why, a, &p, "localhost"), IL_EINVALID);
	ck_assert_int_eq(net_resolve_checked(&addr, &why, a, &p, "127.0.0.1"), IL_EINVALID);
	arena_free(a);
}
END_TEST

/* A config whose own databases are on a unix socket and 198.51.100.30. */
static void outbound_config(struct il_config *cfg, const char *warehouse_allowed)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->database_url = "host=/run/postgresql dbname=ironlayer user=ironlayer_app";
	cfg->migrate_database_url = cfg->database_url;
	cfg->warehouse_dsn = "postgresql://wh@198.51.100.30:5433/wh";
	cfg->warehouse_admin_dsn = "";
	cfg->warehouse_allowed_hosts = warehouse_allowed;
	cfg->databricks_allowed_hosts = "*.cloud.databricks.com, *.azuredatabricks.net, "
					"localhost, 127.0.0.2";
	cfg->databricks_ca_file = "";
}

/* The message exec_pg_target_check gives for dsn, or NULL when it accepts it. */
static const char *dsn_refusal(struct arena *a, const struct il_config *cfg, const char *dsn)
{
	struct exec_pg_target t;
	const char *why = NULL;
	int rc = exec_pg_target_check(&t, &why, a, dsn, cfg);

	ck_assert_msg(rc == 0 || (rc == IL_EINVALID && why != NULL), "%s: rc %d", dsn, rc);
	return rc == 0 ? NULL : why;
}

START_TEST(test_pg_target__only_the_allowed_keywords)
{
	struct arena *a = arena_new(0);
	struct il_config cfg;
	static const char *const refused[] = {
		"passfile", "service", "options", "sslkey", "sslcert", "sslrootcert", "sslcrl",
		"sslcrldir", "sslpassword", "krbsrvname", "gssencmode", "gsslib", "requirepeer",
		"target_session_attrs", "replication", "fallback_application_name", "keepalives",
		"channel_binding", "client_encoding",
	};
	size_t i;

	outbound_config(&cfg, "");
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		const char *dsn = arena_printf(a, "host=203.0.113.10 user=u password=p %s=1",
					       refused[i]);
		const char *why = dsn_refusal(a, &cfg, dsn);
		char want[96];

		snprintf(want, sizeof(want), "connection keyword %s is not allowed", refused[i]);
		ck_assert_msg(why != NULL && strncmp(why, want, strlen(want)) == 0, "%s: %s", dsn,
			      why ? why : "accepted");
	}
	ck_assert_ptr_nonnull(strstr(dsn_refusal(a, &cfg, "postgresql://u:p@203.0.113.10/db?"
						 "passfile=/root/.pgpass"), "keyword passfile"));
	ck_assert_ptr_nonnull(strstr(dsn_refusal(a, &cfg, "host=203.0.113.10 user=u password=p "
						 "nosuch=1"), "not a libpq connection string"));
	ck_assert_ptr_null(dsn_refusal(a, &cfg, "host=203.0.113.10 hostaddr=203.0.113.10 port=6543 "
				       "dbname=wh user=u password=p sslmode=verify-full "
				       "connect_timeout=5 application_name=x"));
	ck_assert_ptr_null(dsn_refusal(a, &cfg, "postgresql://u:p@203.0.113.10:5432/wh"));
	arena_free(a);
}
END_TEST

START_TEST(test_pg_target__hosts_and_credentials)
{
	struct arena *a = arena_new(0);
	struct il_config cfg;
	struct exec_pg_target t;
	const char *why;

	outbound_config(&cfg, "");
	ck_assert_ptr_nonnull(strstr(dsn_refusal(a, &cfg, "host=/run/postgresql user=postgres "
						 "password=x"), "unix sockets are not allowed"));
	ck_assert_ptr_nonnull(strstr(dsn_refusal(a, &cfg, "host=@abstract user=u password=x"),
				     "unix sockets"));
	ck_assert_ptr_nonnull(strstr(dsn_refusal(a, &cfg, "host='' user=u password=x"),
				     "needs a host"));
	ck_assert_ptr_nonnull(strstr(dsn_refusal(a, &cfg, "user=u password=x"), "needs a host"));
	ck_assert_ptr_nonnull(strstr(dsn_refusal(a, &cfg, "host=203.0.113.1,203.0.113.2 user=u "
						 "password=x"), "exactly one host"));
	ck_assert_ptr_nonnull(strstr(dsn_refusal(a, &cfg, "host=203.0.113.1 port=1,2 user=u "
						 "password=x"), "port"));
	ck_assert_ptr_nonnull(strstr(dsn_refusal(a, &cfg, "host=203.0.113.1 user=u"),
				     "needs a password"));
	ck_assert_ptr_nonnull(strstr(dsn_refusal(a, &cfg, "host=203.0.113.1 user=u password=''"),
				     "needs a password"));
	ck_assert_ptr_nonnull(strstr(dsn_refusal(a, &cfg, "host=203.0.113.1 password=x"),
				     "needs a user"));
	ck_assert_ptr_nonnull(strstr(dsn_refusal(a, &cfg, "hostaddr=db.example user=u password=x"),
				     "hostaddr must be one numeric"));
	ck_assert_ptr_nonnull(strstr(dsn_refusal(a, &cfg, "host=203.0.113.1 user=u password=x "
						 "sslmode=bogus"), "sslmode"));
	ck_assert_ptr_nonnull(strstr(dsn_refusal(a, &cfg, "host=127.0.0.1 user=u password=x"),
				     "loopback"));
	ck_assert_ptr_nonnull(strstr(dsn_refusal(a, &cfg, "host=localhost user=u password=x"),
				     "loopback"));
	ck_assert_ptr_nonnull(strstr(dsn_refusal(a, &cfg, "host=::1 user=u password=x"),
				     "loopback"));
	ck_assert_ptr_nonnull(strstr(dsn_refusal(a, &cfg, "host=10.0.0.1 user=u password=x"),
				     "private"));
	ck_assert_ptr_nonnull(strstr(dsn_refusal(a, &cfg, "host=192.168.1.1 user=u password=x"),
				     "private"));
	/* with hostaddr, what is dialled is hostaddr: a harmless host name does not help */
	ck_assert_ptr_nonnull(strstr(dsn_refusal(a, &cfg, "host=db.example.com hostaddr=127.0.0.1 "
						 "user=u password=x"), "loopback"));
	/* the warehouse the server itself uses is not a tenant's to dial */
	ck_assert_ptr_nonnull(strstr(dsn_refusal(a, &cfg, "host=198.51.100.30 port=5433 user=u "
						 "password=x"), "own databases"));

	/* a name on warehouse_allowed_hosts lets every address it resolves to through */
	outbound_config(&cfg, "localhost");
	ck_assert_int_eq(exec_pg_target_check(&t, &why, a, "host=localhost user=u password=x",
					      &cfg), 0);
	ck_assert_int_eq(kind_of(t.address), NET_LOOPBACK);
	outbound_config(&cfg, "127.0.0.0/8, ::1");
	ck_assert_int_eq(exec_pg_target_check(&t, &why, a, "host=127.0.0.5 user=u password=x "
					      "connect_timeout=600", &cfg), 0);
	ck_assert_str_eq(t.address, "127.0.0.5");
	ck_assert_str_eq(t.port, "5432");
	ck_assert_str_eq(t.dbname, "u");
	ck_assert_str_eq(t.sslmode, "prefer");
	ck_assert_int_eq(t.connect_timeout, 30);
	arena_free(a);
}
END_TEST

START_TEST(test_dbx_target__urls_and_the_allow_list)
{
	struct arena *a = arena_new(0);
	struct il_config cfg;
	struct exec_dbx_url u;
	const char *why, *addr;
	static const struct {
		const char *url, *problem;
	} bad[] = {
		{ "http://dbc-1.cloud.databricks.com", "must start with https://" },
		{ "HTTPS://dbc-1.cloud.databricks.com", "must start with https://" },
		{ "https://dbc-1.cloud.databricks.com/api", "must not have a path" },
		{ "https://dbc-1.cloud.databricks.com//", "must not have a path" },
		{ "https://dbc-1.cloud.databricks.com/#x", "must not have a fragment" },
		{ "https://dbc-1.cloud.databricks.com#", "must not have a fragment" },
		{ "https://dbc-1.cloud.databricks.com?q=1", "must not have a query" },
		{ "https://u:p@dbc-1.cloud.databricks.com", "must not contain credentials" },
		{ "https://evil.com@dbc-1.cloud.databricks.com", "must not contain credentials" },
		{ "https://dbc-1.cloud.databricks.com:99999", "port must be" },
		{ "https://dbc-1.cloud.databricks.com:", "port must be" },
		{ "https://dbc 1.cloud.databricks.com", "spaces or control" },
		{ "https://[::1", "unclosed" },
		{ "https://%31%32%37.0.0.1", "must name a host" },
		{ "https://", "must name a host" },
	};
	size_t i;

	outbound_config(&cfg, "");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(exec_dbx_url_parse(&u, &why, a, bad[i].url), IL_EINVALID);
		ck_assert_msg(strstr(why, bad[i].problem) != NULL, "%s: %s", bad[i].url, why);
		ck_assert_msg(strncmp(why, "connection.host ", 16) == 0, "%s", why);
	}
	ck_assert_int_eq(exec_dbx_url_parse(&u, &why, a, "https://DBC-1.cloud.databricks.com:8443/"),
			 0);
	ck_assert_str_eq(u.host, "dbc-1.cloud.databricks.com");
	ck_assert_int_eq(u.port, 8443);
	ck_assert_str_eq(u.base, "https://dbc-1.cloud.databricks.com:8443");
	ck_assert_int_eq(exec_dbx_url_parse(&u, &why, a, "https://[2001:db8::1]"), 0);
	ck_assert_str_eq(u.base, "https://[2001:db8::1]");
	ck_assert_int_eq(u.port, 443);

	ck_assert_int_eq(exec_dbx_target_check(&u, &addr, &why, a, "https://example.com", &cfg),
			 IL_EINVALID);
	ck_assert_str_eq(why, "connection.host example.com is not in databricks_allowed_hosts");
	ck_assert_int_eq(exec_dbx_target_check(&u, &addr, &why, a, "https://127.0.0.1:8443", &cfg),
			 IL_EINVALID);
	ck_assert_ptr_nonnull(strstr(why, "not in databricks_allowed_hosts"));
	/* a listed name does not let loopback through: only address entries do */
	ck_assert_int_eq(exec_dbx_target_check(&u, &addr, &why, a, "https://localhost:8443", &cfg),
			 IL_EINVALID);
	ck_assert_msg(strstr(why, "a loopback address") != NULL, "%s", why);
	ck_assert_int_eq(exec_dbx_target_check(&u, &addr, &why, a, "https://127.0.0.2:8443", &cfg),
			 0);
	ck_assert_str_eq(addr, "127.0.0.2");
	arena_free(a);
}
END_TEST

Suite *suite_netguard(void)
{
	Suite *s = suite_create("netguard");
	TCase *tc = tcase_create("netguard");

	tcase_add_test(tc, test_netguard__classifies_every_non_public_range);
	tcase_add_test(tc, test_netguard__cidr_parse_and_contains);
	tcase_add_test(tc, test_netguard__allow_list_names_patterns_and_ranges);
	tcase_add_test(tc, test_netguard__every_resolved_address_is_checked);
	tcase_add_test(tc, test_pg_target__only_the_allowed_keywords);
	tcase_add_test(tc, test_pg_target__hosts_and_credentials);
	tcase_add_test(tc, test_dbx_target__urls_and_the_allow_list);
	suite_add_tcase(s, tc);
	return s;
}
