#!/usr/bin/env bash
# make-demo-repo.sh SRC DEST: turns the demo project SRC (examples/demo-project)
# into a git repository DEST with three commits (deterministic authors and dates,
# so the commit ids are the same on every machine):
#   1. "Start the demo project": the README only, no models yet
#   2. "Add demo models": every file of SRC, so the plan HEAD~2..HEAD~1 builds
#      every model in a fresh environment
#   3. "stg_orders: exclude returned orders": a logic change in one staging model,
#      so the plan HEAD~1..HEAD has steps (stg_orders and its downstream)
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 SRC DEST" >&2; exit 2; }
src=$(cd "$1" && pwd -P)
dest=$2
[ -d "$src/models" ] || { echo "$0: $src has no models/ directory" >&2; exit 1; }
if [ -e "$dest" ] && [ -n "$(ls -A "$dest" 2>/dev/null)" ]; then
	echo "$0: $dest exists and is not empty" >&2
	exit 1
fi
mkdir -p "$dest"
cd "$dest"

export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_NAME="IronLayer Demo" GIT_AUTHOR_EMAIL="demo@ironlayer.invalid"
export GIT_COMMITTER_NAME="IronLayer Demo" GIT_COMMITTER_EMAIL="demo@ironlayer.invalid"
commit() { # date message
	export GIT_AUTHOR_DATE="$1" GIT_COMMITTER_DATE="$1"
	git add -A .
	git -c commit.gpgsign=false commit -q -m "$2"
}

git -c init.defaultBranch=main init -q .
cp "$src/README.md" .
commit "2026-11-25T09:00:00+0000" "Start the demo project"
cp -R "$src"/. .
commit "2026-11-26T09:00:00+0000" "Add demo models"

f=models/staging/stg_orders.sql
sed -i "s/^WHERE o.status <> 'cancelled'\$/WHERE o.status NOT IN ('cancelled', 'returned')/" "$f"
grep -q "NOT IN ('cancelled', 'returned')" "$f" || { echo "$0: could not edit $f" >&2; exit 1; }
commit "2026-11-27T09:00:00+0000" "stg_orders: exclude returned orders"

git log --format='%h %s' | cat
