#!/usr/bin/env python3
"""check-pools.py: the web server configurations send exactly the long routes to the apply pool.

Run from the build directory (make check does): the route table comes from
`./ironlayer routes` ("long": the routes that take an apply slot), the
configurations from fcgi-conf/ in the source tree. For every route, a request
path is made from its pattern; the apply-pool rule of each of lighttpd.conf,
lighttpd-ironlayer.conf, apache2-ironlayer.conf and apache2-test.conf must
match it exactly when the route is long, so that no long request can hold a
worker of the api pool and no short one waits in the apply pool. Also checks
that the apply pool's socket is the one its systemd socket unit creates.
Exit 0 when everything holds, 1 otherwise.
"""
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.normpath(os.path.join(HERE, "..", ".."))
CONF = os.path.join(SRCDIR, "fcgi-conf")
SAMPLES = {"id": "727cb5b1b0fe209b4d812bc9489f403a870dc0626fb9832c41f0e796dd6f3e50",
           "name": "analytics.orders", "run": "e8132946-580c-4f01-9534-7456c9a23c03",
           "limit": "plans_per_month"}

problems = []


def routes():
    exe = os.path.join(os.getcwd(), "ironlayer")
    if not os.access(exe, os.X_OK):
        sys.exit("check-pools: %s is not built (run make)" % exe)
    return json.loads(subprocess.run([exe, "routes"], check=True,
                                     stdout=subprocess.PIPE).stdout)


def sample_path(pattern):
    return re.sub(r":([A-Za-z_]+)", lambda m: SAMPLES.get(m.group(1), "x"), pattern)


def apply_rules():
    """(file, compiled regex, socket) of each configuration's apply-pool rule."""
    found = []
    lighttpd = re.compile(r'\$HTTP\["url"\] =~ "(\^/api[^"]*)" \{\s*fastcgi\.server = \(\s*'
                          r'"/" => \(\(\s*"socket"\s*=> ([^,]+),')
    apache = re.compile(r'^\s*ProxyPassMatch "([^"]+)" "unix:([^|"]+)\|', re.M)
    for name in ("lighttpd.conf", "lighttpd-ironlayer.conf"):
        text = open(os.path.join(CONF, name), encoding="utf-8").read()
        m = lighttpd.search(text)
        if m is None:
            problems.append("%s has no apply-pool rule" % name)
            continue
        sock = m.group(2).strip().strip('"')
        if sock == "var.il_apply_socket":
            sock = re.search(r'^var\.il_apply_socket\s*=\s*"([^"]+)"', text, re.M).group(1)
        found.append((name, re.compile(m.group(1).replace("\\\\", "\\")), sock))
    for name in ("apache2-ironlayer.conf", "apache2-test.conf"):
        text = open(os.path.join(CONF, name), encoding="utf-8").read()
        m = apache.search(text)
        if m is None:
            problems.append("%s has no apply-pool ProxyPassMatch" % name)
            continue
        found.append((name, re.compile(m.group(1)), m.group(2)))
    return found


def main():
    table = routes()
    rules = apply_rules()
    unit = open(os.path.join(CONF, "ironlayer-fcgi-apply.socket"), encoding="utf-8").read()
    for name, rule, sock in rules:
        if name != "apache2-test.conf" and sock != "/run/ironlayer/fcgi-apply.sock":
            problems.append("%s sends long work to %s" % (name, sock))
        for route in table:
            path = sample_path(route["pattern"])
            if bool(rule.search(path)) != bool(route.get("long")):
                problems.append("%s %s the apply pool: %s %s" % (
                    name, "sends it to" if rule.search(path) else "does not send it to",
                    route["method"], route["pattern"]))
    if not re.search(r"^ListenStream=/run/ironlayer/fcgi-apply\.sock$", unit, re.M):
        problems.append("ironlayer-fcgi-apply.socket does not listen on "
                        "/run/ironlayer/fcgi-apply.sock")
    if not any(r.get("long") for r in table):
        problems.append("no route is long work")
    for p in problems:
        print("check-pools: " + p)
    if problems:
        return 1
    print("check-pools: %d routes, %d long; %d web server rules agree" % (
        len(table), sum(1 for r in table if r.get("long")), len(rules)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
