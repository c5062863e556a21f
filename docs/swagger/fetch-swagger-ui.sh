#!/bin/sh
# fetch-swagger-ui.sh: the Swagger UI assets for /docs, from the npm package
# swagger-ui-dist at the version in docs/swagger-ui.version.
#
#   fetch-swagger-ui.sh [--soft] OUTDIR
#
# Installs the package under OUTDIR/npm (npm install --no-save --prefix, no
# install scripts; --prefer-offline, so that after the first download it works
# from npm's cache without a network) and copies what the page needs into
# OUTDIR/dist: swagger-ui-bundle.js, swagger-ui.css, the favicons, LICENSE and
# NOTICE, plus a VERSION file. Nothing is done when OUTDIR/dist already holds
# that version. scripts/stack copies OUTDIR/dist, docs/swagger/index.html and
# docs/openapi.json into the web server's docs directory.
#
# --soft: when npm is missing or fails, warn and exit 0 (so that `make` works
# without it; the stack then runs without /docs). Exit 1 otherwise.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
soft=false
if [ "${1:-}" = --soft ]; then soft=true; shift; fi
out=${1:?usage: fetch-swagger-ui.sh [--soft] OUTDIR}
version=$(tr -d ' \n' <"$here/../swagger-ui.version")
case "$version" in
[0-9]*.[0-9]*.[0-9]*) ;;
*) echo "fetch-swagger-ui: bad version '$version' in docs/swagger-ui.version" >&2; exit 1 ;;
esac

fail() {
	echo "fetch-swagger-ui: $*" >&2
	if $soft; then
		echo "fetch-swagger-ui: continuing without the Swagger UI assets (/docs will be absent)" >&2
		exit 0
	fi
	exit 1
}

if [ -f "$out/dist/VERSION" ] && [ "$(cat "$out/dist/VERSION")" = "$version" ] &&
	[ -f "$out/dist/swagger-ui-bundle.js" ] && [ -f "$out/dist/swagger-ui.css" ]; then
	exit 0
fi
command -v npm >/dev/null 2>&1 || fail "npm not found (apt-get install npm, or Node.js with npm)"
mkdir -p "$out/npm"
# build output: keep git from listing it
[ -f "$out/.gitignore" ] || echo "*" >"$out/.gitignore"
echo "fetch-swagger-ui: npm install swagger-ui-dist@$version into $out/npm"
if ! npm install --no-save --no-package-lock --no-audit --no-fund --ignore-scripts \
	--prefer-offline --fetch-retries=1 --fetch-timeout=30000 --loglevel=error \
	--prefix "$out/npm" "swagger-ui-dist@$version" >"$out/npm-install.log" 2>&1; then
	cat "$out/npm-install.log" >&2
	fail "npm install swagger-ui-dist@$version failed"
fi
pkg=$out/npm/node_modules/swagger-ui-dist
got=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$pkg/package.json" | head -n 1)
[ "$got" = "$version" ] || fail "npm installed swagger-ui-dist $got, not $version"
rm -rf "$out/dist.tmp"
mkdir -p "$out/dist.tmp"
for f in swagger-ui-bundle.js swagger-ui.css favicon-16x16.png favicon-32x32.png LICENSE NOTICE; do
	[ -f "$pkg/$f" ] || fail "swagger-ui-dist@$version has no $f"
	cp "$pkg/$f" "$out/dist.tmp/$f"
done
echo "$version" >"$out/dist.tmp/VERSION"
rm -rf "$out/dist"
mv "$out/dist.tmp" "$out/dist"
echo "fetch-swagger-ui: Swagger UI $version in $out/dist"
