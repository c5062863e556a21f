#!/bin/bash
# run-browser-test.sh: Swagger UI at /docs in headless Chromium.
# Brings up a private stack (PostgreSQL, the FastCGI pool, and lighttpd, or
# Apache with IRONLAYER_TEST_FRONTEND=apache, serving /docs and /openapi.json)
# on a free loopback port, runs t/docs/browser-test.mjs (playwright-core
# driving Debian's /usr/bin/chromium) against it, stops it.
# The screenshot is t/docs/out/docs.png under the build directory.
#
# Needs chromium (Debian package), node and npm. playwright-core (the version
# in t/docs/playwright-core.version) and the Swagger UI assets are installed
# with npm into the build directory when missing (npm's cache makes that work
# offline after the first time). Without chromium or node the test is skipped
# (exit 77), except under CI (CI set), where it fails.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../stack-harness.sh"   # top_srcdir, builddir, stack, free_port
chromium=${IL_CHROMIUM:-/usr/bin/chromium}
out=$builddir/t/docs/out
nodedir=$builddir/t/docs/node

unavailable() {
	if [ -n "${CI:-}" ]; then
		echo "run-browser-test: $* (CI: failing)" >&2
		exit 1
	fi
	echo "run-browser-test: SKIP: $*" >&2
	exit 77
}

[ -x "$chromium" ] || unavailable "$chromium not found (apt-get install chromium)"
command -v node >/dev/null || unavailable "node not found"
command -v npm >/dev/null || unavailable "npm not found"

# the Swagger UI assets: normally fetched by `make`; fetch them now if that failed
if [ ! -f "$builddir/swagger-ui/dist/swagger-ui-bundle.js" ]; then
	"$top_srcdir/docs/swagger/fetch-swagger-ui.sh" "$builddir/swagger-ui" ||
		unavailable "cannot install swagger-ui-dist with npm"
fi

# playwright-core, only the driver: it uses the system's Chromium, downloads no browser
pw_version=$(tr -d ' \n' <"$here/playwright-core.version")
pw_pkg=$nodedir/node_modules/playwright-core/package.json
if ! grep -q "\"version\": \"$pw_version\"" "$pw_pkg" 2>/dev/null; then
	mkdir -p "$nodedir"
	[ -f "$nodedir/.gitignore" ] || echo "*" >"$nodedir/.gitignore"
	echo "run-browser-test: npm install playwright-core@$pw_version"
	if ! npm install --no-save --no-package-lock --no-audit --no-fund --ignore-scripts \
		--prefer-offline --fetch-retries=1 --fetch-timeout=30000 --loglevel=error \
		--prefix "$nodedir" "playwright-core@$pw_version" >"$nodedir/npm-install.log" 2>&1; then
		cat "$nodedir/npm-install.log" >&2
		unavailable "cannot install playwright-core@$pw_version with npm"
	fi
fi

var=$(mktemp -d /tmp/ironlayer-test.docs-XXXXXX)
port=$(free_port) || { echo "no free port" >&2; exit 1; }
mkdir -p "$var/log" "$out"
[ -f "$out/.gitignore" ] || echo "*" >"$out/.gitignore"
rm -f "$out/docs.png"

cleanup() {
	"$stack" down --var "$var" >>"$var/log/harness.log" 2>&1
}
trap cleanup EXIT

# the front end is lighttpd unless IRONLAYER_TEST_FRONTEND=apache (both serve /docs)
if ! "$stack" up --var "$var" --port "$port" \
	--builddir "$builddir" >"$var/log/stack-up.log" 2>&1; then
	echo "stack did not come up:" >&2
	cat "$var/log/stack-up.log" >&2
	exit 1
fi

IL_DOCS_BASE="http://127.0.0.1:$port" IL_SPEC="$top_srcdir/docs/openapi.json" \
	IL_NODE_MODULES="$nodedir" IL_CHROMIUM="$chromium" IL_OUT="$out" \
	timeout 120 node "$here/browser-test.mjs"
rc=$?

cleanup
trap - EXIT
if [ "$rc" -ne 0 ]; then
	echo "--- stack logs kept in $var/log" >&2
	tail -n 20 "$var/log/lighttpd-error.log" >&2 2>/dev/null
else
	"$stack" destroy --var "$var" >/dev/null 2>&1
	[ -f "$out/docs.png" ] && echo "run-browser-test: screenshot $out/docs.png"
fi
exit "$rc"
