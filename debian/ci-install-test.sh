#!/usr/bin/env bash
# debian/ci-install-test.sh: build the Debian package, install it, and run the
# installed files for real. As root on Debian 12 (CI runs it from .ci/run):
#
#   1. copy the source tree (git's tracked and unignored files) to a temporary
#      directory and build it there: DEB_BUILD_OPTIONS="nocheck parallel=2"
#      dpkg-buildpackage -us -uc -b (the working tree is never touched)
#   2. lintian on the .deb: errors fail, warnings are printed
#   3. apt-get install -y ./ironlayer_*.deb, then check what it installed
#   4. a throwaway PostgreSQL cluster with the roles of docs/admin-guide.md;
#      /etc/ironlayer/ironlayer.conf pointed at it; `ironlayer migrate`
#   5. both pools started as the installed systemd units would: the socket of
#      each .socket unit (owner, group www-data, mode) made by spawn-fcgi as
#      root, the service's ExecStart run on it as user ironlayer (the api pool
#      on fcgi.sock; the apply pool, IRONLAYER_APPLY_WORKERS + 1 workers, on
#      fcgi-apply.sock); and lighttpd (as www-data, in no group of ours) with
#      the installed conf-available snippet
#   6. www-data cannot read the configuration; GET /api/v1/health and /ready
#      (200) through the web server all the same, signup + auth/me (bearer
#      token through the web server), POST /plans/generate answered by the
#      apply pool, GET /docs and /openapi.json (200 if the
#      package has the Swagger UI assets; skipped with a message otherwise)
#   7. cleanup: everything started is stopped, the package purged (unless it
#      was installed before), the user it created removed, temporary files gone
#
# Environment: IL_DEB_PORT (default: a free port), IL_DEB_KEEP=1 keeps the
# build directory and leaves the package installed, IL_DEB_CHECK=1 runs the
# unit tests during the build.
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
PROG=deb-install-test
say() { echo "$PROG: $*"; }
die() { echo "$PROG: error: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (it installs a package)"
export DEBIAN_FRONTEND=noninteractive

CONF=/etc/ironlayer/ironlayer.conf
UNIT=/lib/systemd/system/ironlayer-fcgi.service
SOCKET_UNIT=/lib/systemd/system/ironlayer-fcgi.socket
APPLY_UNIT=/lib/systemd/system/ironlayer-fcgi-apply.service
APPLY_SOCKET_UNIT=/lib/systemd/system/ironlayer-fcgi-apply.socket
SOCK=/run/ironlayer/fcgi.sock
WORK=$(mktemp -d /tmp/ironlayer-deb.XXXXXX)
chmod 0755 "$WORK" # the postgres and ironlayer users pass through it
LOGDIR=$WORK/log
mkdir -p "$LOGDIR"

had_pkg=false had_user=false
dpkg-query -W -f='${db:Status-Status}' ironlayer 2>/dev/null | grep -qx installed && had_pkg=true
getent passwd ironlayer >/dev/null && had_user=true
$had_pkg && die "the ironlayer package is already installed here: not touching it"

PG_BIN= POOL_PID= APPLY_POOL_PID= LIGHTTPD_PID=$WORK/lighttpd.pid installed=false

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

cleanup() {
	local rc=$? p i
	trap - EXIT
	set +e
	if [ -f "$LIGHTTPD_PID" ]; then
		p=$(cat "$LIGHTTPD_PID")
		kill -TERM "$p" 2>/dev/null
		for i in $(seq 1 50); do pid_alive "$p" || break; sleep 0.1; done
	fi
	for p in "$POOL_PID" "$APPLY_POOL_PID"; do
		pid_alive "$p" || continue
		kill -TERM "$p" 2>/dev/null # multiwatch forwards it to the workers
		for i in $(seq 1 100); do pid_alive "$p" || break; sleep 0.1; done
		pid_alive "$p" && kill -KILL "$p"
	done
	if [ -n "$PG_BIN" ] && [ -f "$WORK/pg/data/postmaster.pid" ]; then
		runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -m fast -w stop >/dev/null
	fi
	if [ $rc -ne 0 ]; then
		for f in "$LOGDIR"/*.log; do
			[ -f "$f" ] || continue
			echo "=== $f"
			tail -n 60 "$f"
		done
	fi
	if [ "${IL_DEB_KEEP:-0}" != 1 ]; then
		if $installed; then
			say "purging the package"
			apt-get purge -y -q ironlayer >"$LOGDIR/purge.log" 2>&1 || cat "$LOGDIR/purge.log"
		fi
		if ! $had_user && getent passwd ironlayer >/dev/null; then
			deluser --system --quiet ironlayer >/dev/null 2>&1
			delgroup --system --quiet ironlayer >/dev/null 2>&1
		fi
		rm -rf /run/ironlayer /run/ironlayer-apply "$WORK"
	else
		say "kept $WORK (IL_DEB_KEEP=1)"
	fi
	if [ $rc -eq 0 ]; then say "passed"; else say "FAILED (exit $rc)"; fi
	exit $rc
}
trap cleanup EXIT

free_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 12000))   # below the ephemeral range (32768+)
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
	done
	return 1
}
PORT=${IL_DEB_PORT:-$(free_port)} || die "no free port"
PORT2=$(free_port) || die "no free port"
[ "$PORT2" != "$PORT" ] || PORT2=$(free_port)

# ---------------------------------------------------------------- 1. build
need=()
for p in build-essential debhelper dh-autoreconf fakeroot lintian; do
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" = installed ] || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	say "installing ${need[*]}"
	apt-get install -y -q --no-install-recommends "${need[@]}" </dev/null >"$LOGDIR/apt-tools.log" 2>&1 ||
		{ cat "$LOGDIR/apt-tools.log"; die "cannot install the packaging tools"; }
fi
version=$(dpkg-parsechangelog -l "$TOP/debian/changelog" -S Version)
src=$WORK/build/ironlayer-${version%%-*}
mkdir -p "$src"
say "copying the source tree to $src"
git -C "$TOP" ls-files -z --cached --others --exclude-standard |
	(cd "$TOP" && xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' _) |
	(cd "$TOP" && tar --null -T - -cf -) | tar -xf - -C "$src"
opts="nocheck parallel=2"
[ "${IL_DEB_CHECK:-0}" = 1 ] && opts="parallel=2"
say "dpkg-buildpackage -us -uc -b (DEB_BUILD_OPTIONS=\"$opts\"; log $LOGDIR/build.log)"
if ! (cd "$src" && DEB_BUILD_OPTIONS=$opts dpkg-buildpackage -us -uc -b) >"$LOGDIR/build.log" 2>&1; then
	tail -n 80 "$LOGDIR/build.log" >&2
	die "dpkg-buildpackage failed"
fi
deb=$(ls "$WORK"/build/ironlayer_*.deb | grep -v dbgsym | head -n 1)
[ -f "$deb" ] || die "no .deb produced"
say "built $(basename "$deb")"

# ---------------------------------------------------------------- 2. lintian
lintian --tag-display-limit 0 "$deb" >"$LOGDIR/lintian.txt" 2>&1 || true
cat "$LOGDIR/lintian.txt"
if grep -q '^E: ' "$LOGDIR/lintian.txt"; then die "lintian reports errors"; fi
say "lintian: $(grep -c '^E: ' "$LOGDIR/lintian.txt") errors, $(grep -c '^W: ' "$LOGDIR/lintian.txt") warnings"

# ---------------------------------------------------------------- 3. install
say "apt-get install -y $deb"
installed=true
apt-get install -y -q "$deb" </dev/null >"$LOGDIR/install.log" 2>&1 ||
	{ cat "$LOGDIR/install.log"; die "apt-get install failed"; }
for f in /usr/sbin/ironlayer-fcgi /usr/bin/ironlayer "$CONF" "$UNIT" "$SOCKET_UNIT" \
	"$APPLY_UNIT" "$APPLY_SOCKET_UNIT" \
	/etc/lighttpd/conf-available/50-ironlayer.conf /etc/apache2/sites-available/ironlayer.conf \
	/usr/share/ironlayer/sql/001_foundation.sql /usr/share/ironlayer/errors/503.html \
	/usr/share/man/man1/ironlayer.1.gz /usr/share/man/man8/ironlayer-fcgi.8.gz; do
	[ -e "$f" ] || die "the package did not install $f"
done
getent passwd ironlayer >/dev/null || die "postinst did not create the user ironlayer"
[ "$(stat -c '%a %U:%G' "$CONF")" = "640 root:ironlayer" ] ||
	die "$CONF is $(stat -c '%a %U:%G' "$CONF"), not 640 root:ironlayer"
dpkg-query -W -f='${Conffiles}\n' ironlayer | grep -q " $CONF " || die "$CONF is not a conffile"
/usr/bin/ironlayer --version
/usr/sbin/ironlayer-fcgi --version

# ---------------------------------------------------------------- 4. PostgreSQL and migrate
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$PG_BIN/initdb" ] || die "PostgreSQL server binaries not found (apt-get install postgresql)"
mkdir -p "$WORK/pg/data" "$WORK/pg/run"
chown -R postgres: "$WORK/pg"
chmod 0700 "$WORK/pg/data"
say "initdb + start PostgreSQL (socket $WORK/pg/run)"
runuser -u postgres -- "$PG_BIN/initdb" -D "$WORK/pg/data" -U postgres --auth=trust \
	--encoding=UTF8 --no-locale --no-sync >"$LOGDIR/initdb.log" 2>&1 || die "initdb failed"
touch "$LOGDIR/postgresql.log"
chown postgres: "$LOGDIR/postgresql.log"
runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -l "$LOGDIR/postgresql.log" -w -t 60 \
	-o "-c listen_addresses='' -c unix_socket_directories='$WORK/pg/run' -c fsync=off" start >/dev/null ||
	die "PostgreSQL did not start"
chmod 0755 "$WORK/pg" "$WORK/pg/run"
PGHOST="host=$WORK/pg/run port=5432"
"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$PGHOST dbname=postgres user=postgres" >/dev/null <<'SQL'
CREATE ROLE ironlayer_owner LOGIN;
CREATE ROLE ironlayer_worker NOLOGIN;
CREATE ROLE ironlayer_app LOGIN NOBYPASSRLS IN ROLE ironlayer_worker;
CREATE ROLE ironlayer_wh_admin LOGIN CREATEROLE CREATEDB;
CREATE DATABASE ironlayer OWNER ironlayer_owner;
CREATE DATABASE ironlayer_wh OWNER ironlayer_wh_admin;
REVOKE ALL ON DATABASE ironlayer FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE ironlayer TO ironlayer_worker;
SQL

say "pointing $CONF at it"
set_key() { # key value: replace `key =` or `#key =`, or append
	if grep -qE "^#?$1 =" "$CONF"; then
		sed -i -E "s|^#?$1 =.*|$1 = $2|" "$CONF"
	else
		echo "$1 = $2" >>"$CONF"
	fi
}
set_key database_url "$PGHOST dbname=ironlayer user=ironlayer_app"
set_key migrate_database_url "$PGHOST dbname=ironlayer user=ironlayer_owner"
set_key warehouse_dsn "$PGHOST dbname=ironlayer_wh user=ironlayer_wh_admin"
set_key warehouse_admin_dsn "$PGHOST dbname=ironlayer_wh user=ironlayer_wh_admin"
set_key jwt_secret "$(od -An -v -tx1 -N48 /dev/urandom | tr -d ' \n')"
set_key master_key "$(od -An -v -tx1 -N32 /dev/urandom | tr -d ' \n')"
[ "$(stat -c '%a %U:%G' "$CONF")" = "640 root:ironlayer" ] || die "editing $CONF changed its mode"

say "ironlayer migrate (as user ironlayer)"
(cd / && runuser -u ironlayer -- /usr/bin/ironlayer migrate) >"$LOGDIR/migrate.log" 2>&1 ||
	{ cat "$LOGDIR/migrate.log"; die "ironlayer migrate failed"; }
tail -n 1 "$LOGDIR/migrate.log"

# ---------------------------------------------------------------- 5. pools and lighttpd
# As systemd would: the socket unit's socket (made here by spawn-fcgi as root,
# with the unit's owner, group and mode, then handed over on fd 0), and the
# service's ExecStart (continuation lines joined; "$$" is systemd's literal
# "$"; the unit's own quoting) run on it as its User= with its Environment=
# lines, in its RuntimeDirectory=. Sets STARTED_PID.
unit_key() { sed -e ':a' -e '/\\$/N; s/\\\n[[:space:]]*//; ta' "$1" | sed -n "s/^$2=//p" | tail -n 1; }
command -v spawn-fcgi >/dev/null || apt-get install -y -q spawn-fcgi </dev/null >"$LOGDIR/apt-spawn.log" 2>&1
start_pool() { # service-unit socket-unit socket
	local unit=$1 socket_unit=$2 sock=$3 exec_start unit_user unit_group runtime
	local sock_user sock_group sock_mode cmd=() envs=()
	exec_start=$(unit_key "$unit" ExecStart | sed 's/\$\$/$/g')
	mapfile -t envs < <(sed -n 's/^Environment=//p' "$unit")
	unit_user=$(unit_key "$unit" User)
	unit_group=$(unit_key "$unit" Group)
	runtime=$(unit_key "$unit" RuntimeDirectory)
	[ "$(unit_key "$unit" StandardInput)" = socket ] || die "$unit does not take its socket on stdin"
	[ "$(unit_key "$socket_unit" ListenStream)" = "$sock" ] || die "$socket_unit does not listen on $sock"
	sock_user=$(unit_key "$socket_unit" SocketUser)
	sock_group=$(unit_key "$socket_unit" SocketGroup)
	sock_mode=$(unit_key "$socket_unit" SocketMode)
	[ -n "$exec_start" ] && [ -n "$unit_user" ] && [ -n "$sock_group" ] && [ -n "$sock_mode" ] ||
		die "cannot read ExecStart/User from $unit or SocketGroup/SocketMode from $socket_unit"
	install -d -m "$(unit_key "$socket_unit" DirectoryMode)" /run/ironlayer
	if [ -n "$runtime" ]; then
		install -d -o "$unit_user" -g "$unit_group" \
			-m "$(unit_key "$unit" RuntimeDirectoryMode)" "/run/$runtime"
	fi
	say "starting $(basename "$unit"): $exec_start (socket $sock_user:$sock_group $sock_mode)"
	eval "cmd=($exec_start)"
	(cd /var/lib/ironlayer && umask 0007 && exec setsid env "${envs[@]}" spawn-fcgi -n -s "$sock" \
		-M "$sock_mode" -U "$sock_user" -G "$sock_group" -u "$unit_user" -g "$unit_group" -b 1024 \
		-- "${cmd[@]}") >>"$LOGDIR/worker.log" 2>&1 </dev/null &
	STARTED_PID=$!
	for _ in $(seq 1 50); do [ -S "$sock" ] && break; sleep 0.1; done
	[ -S "$sock" ] || die "$(basename "$unit") did not create $sock"
	[ "$(stat -c '%a %U:%G' "$sock")" = "${sock_mode#0} $sock_user:$sock_group" ] ||
		die "$sock is $(stat -c '%a %U:%G' "$sock")"
}
start_pool "$UNIT" "$SOCKET_UNIT" "$SOCK"
POOL_PID=$STARTED_PID
start_pool "$APPLY_UNIT" "$APPLY_SOCKET_UNIT" /run/ironlayer/fcgi-apply.sock
APPLY_POOL_PID=$STARTED_PID

# lighttpd as www-data, which reaches the socket through its own group only
if id -nG www-data | tr ' ' '\n' | grep -qx ironlayer; then
	die "www-data is in the group ironlayer"
fi
sed -e "s|\":8000\"|\"127.0.0.1:$PORT\"|" /etc/lighttpd/conf-available/50-ironlayer.conf \
	>"$WORK/50-ironlayer.conf"
cat >"$WORK/lighttpd.conf" <<EOF
# minimal main configuration (Debian's lighttpd.conf includes conf-enabled/ the same way)
server.modules        = ( "mod_indexfile", "mod_access", "mod_alias", "mod_accesslog" )
index-file.names      = ( "index.html" )
# (the default site, unused: the snippet's \$SERVER["socket"] is the API)
server.bind           = "127.0.0.1"
server.port           = $PORT2
server.document-root  = "/usr/share/ironlayer/www"
server.pid-file       = "$LIGHTTPD_PID"
server.errorlog       = "$LOGDIR/lighttpd-error.log"
server.username       = "www-data"
server.groupname      = "www-data"
# the installed /etc/lighttpd/conf-available/50-ironlayer.conf, on port $PORT
include "$WORK/50-ironlayer.conf"
EOF
touch "$LOGDIR/lighttpd-error.log"
chown www-data "$LOGDIR/lighttpd-error.log"
lighttpd -tt -f "$WORK/lighttpd.conf" || die "lighttpd rejects the installed snippet"
lighttpd -f "$WORK/lighttpd.conf" || die "lighttpd did not start"
say "lighttpd on 127.0.0.1:$PORT"

# ---------------------------------------------------------------- 6. checks
base=http://127.0.0.1:$PORT
fetch() { # method path [body [token]] -> "status body"
	local a=(-s -o "$WORK/body" -w '%{http_code}' -X "$1" --max-time 20)
	[ -n "${3:-}" ] && a+=(-H 'Content-Type: application/json' --data-binary "$3")
	[ -n "${4:-}" ] && a+=(-H "Authorization: Bearer $4")
	curl "${a[@]}" "$base$2" || true
}
expect() { # status method path [body [token]]
	local want=$1 got
	shift
	for _ in $(seq 1 50); do
		got=$(fetch "$@")
		[ "$got" = "$want" ] && break
		[ "$got" = 000 ] || [ "$got" = 503 ] || break # starting up
		sleep 0.2
	done
	[ "$got" = "$want" ] || die "$1 $2: status $got, expected $want: $(head -c 300 "$WORK/body")"
	say "$1 $2 -> $got $(head -c 120 "$WORK/body")"
}
# the web server's user cannot read the secrets, yet serves the API
if runuser -u www-data -- cat "$CONF" >/dev/null 2>&1; then
	die "www-data can read $CONF"
fi
say "runuser -u www-data -- cat $CONF: refused"
expect 200 GET /api/v1/health
grep -q '"status":"ok"' "$WORK/body" || die "health body"
expect 200 GET /ready
expect 405 DELETE /api/v1/health
email="deb-$RANDOM@example.com"
expect 201 POST /api/v1/auth/signup "{\"email\":\"$email\",\"password\":\"correct horse battery\",\"display_name\":\"Deb Test\"}"
token=$(sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p' "$WORK/body")
[ -n "$token" ] || die "no access_token in the signup answer"
expect 200 GET /api/v1/auth/me "" "$token"
grep -q "$email" "$WORK/body" || die "auth/me does not name $email"
# generate goes to the apply pool: a body without repo_path is a 422 from a worker there
expect 422 POST /api/v1/plans/generate "{}" "$token"
grep -q '"repo_path"' "$WORK/body" || die "generate's 422 does not name repo_path"
# 4 api workers (ironlayer-fcgi.service), 2 + 1 apply workers (IRONLAYER_APPLY_WORKERS = 2)
[ "$(pgrep -c -x -u ironlayer ironlayer-fcgi)" = 7 ] ||
	die "$(pgrep -c -x -u ironlayer ironlayer-fcgi) workers run, not 4 + 3 (api + apply pools)"
if [ -f /usr/share/ironlayer/www/docs/index.html ]; then
	got=$(curl -s -L -o "$WORK/body" -w '%{http_code} %{content_type}' "$base/docs")
	case "$got" in 200\ text/html*) ;; *) die "GET /docs: $got" ;; esac
	grep -q swagger-ui-bundle.js "$WORK/body" || die "GET /docs is not the Swagger UI page"
	say "GET /docs -> $got ($(wc -c <"$WORK/body") bytes)"
	got=$(curl -s -o "$WORK/body" -w '%{http_code} %{content_type}' "$base/openapi.json")
	case "$got" in 200\ application/json*) ;; *) die "GET /openapi.json: $got" ;; esac
	grep -q '"openapi"' "$WORK/body" || die "GET /openapi.json is not the spec"
	say "GET /openapi.json -> $got"
	got=$(curl -s -o /dev/null -w '%{http_code}' "$base/docs/swagger-ui-bundle.js")
	[ "$got" = 200 ] || die "GET /docs/swagger-ui-bundle.js: $got"
else
	say "skip /docs: the package has no Swagger UI assets (/usr/share/ironlayer/www/docs)"
fi
