#!/usr/bin/env python3
"""check-openapi.py: docs/openapi.json and the route table agree, and the spec is valid.

Run from the build directory (make check does): the route table comes from
`./ironlayer routes`, the spec from the source tree (found from this file's
location, so VPATH builds work). Checks, both ways:
  - every route of src/api/routes.c is an operation of the spec, and every
    operation of the spec is a route (":param" in the table is "{param}" here);
  - public routes say `security: []`, the others are covered by bearerAuth,
    and `x-min-role` names the route's minimum role;
  - each operation's tag is the route's tag, and the spec's tags are exactly
    the route tags; path parameters are declared; JSON-body routes document a
    request body and 422; long routes (the apply pool's) document 503
    apply_busy with Retry-After; info.version is the package version; every
    $ref resolves.
Then it validates the spec with openapi-spec-validator when that Python
module is installed (skipped, with a message, when it is not).
Exit 0 when everything holds, 1 otherwise.
"""
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.normpath(os.path.join(HERE, "..", ".."))
BUILDDIR = os.getcwd()
SPEC = os.environ.get("IL_OPENAPI", os.path.join(SRCDIR, "docs", "openapi.json"))
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")

problems = []


def problem(msg):
    problems.append(msg)


def load_routes():
    exe = os.path.join(BUILDDIR, "ironlayer")
    if not os.access(exe, os.X_OK):
        sys.exit("check-openapi: %s is not built (run make)" % exe)
    out = subprocess.run([exe, "routes"], check=True, stdout=subprocess.PIPE).stdout
    return json.loads(out)


def package_version():
    exe = os.path.join(BUILDDIR, "ironlayer")
    out = subprocess.run([exe, "--version"], check=True, stdout=subprocess.PIPE, text=True)
    return out.stdout.split()[-1]


def to_openapi_path(pattern):
    return re.sub(r":([A-Za-z_][A-Za-z0-9_]*)", r"{\1}", pattern)


def resolve(spec, node):
    """Follows a local $ref (one or more hops)."""
    seen = 0
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            problem("non-local $ref %s" % ref)
            return {}
        cur = spec
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(cur, dict) or part not in cur:
                problem("$ref %s does not resolve" % ref)
                return {}
            cur = cur[part]
        node = cur
        seen += 1
        if seen > 20:
            problem("$ref loop at %s" % ref)
            return {}
    return node


def check_refs(spec, node, where="#"):
    if isinstance(node, dict):
        if "$ref" in node and isinstance(node["$ref"], str):
            resolve(spec, node)
        for k, v in node.items():
            check_refs(spec, v, where + "/" + k)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            check_refs(spec, v, "%s/%d" % (where, i))


def operations(spec):
    ops = {}
    for path, item in spec.get("paths", {}).items():
        for method, op in item.items():
            if method in METHODS:
                ops[(method.upper(), path)] = op
    return ops


def has_bearer(requirements):
    return any(isinstance(r, dict) and "bearerAuth" in r for r in requirements or [])


def check_operation(spec, route, op, path):
    name = "%s %s" % (route["method"], path)
    public = route["public"]
    sec = op.get("security")
    if public:
        if sec != []:
            problem("%s is public but does not say `security: []`" % name)
    else:
        effective = sec if sec is not None else spec.get("security")
        if not has_bearer(effective):
            problem("%s needs a token but its security does not name bearerAuth" % name)
    want_role = "none" if public else route["min_role"]
    if op.get("x-min-role") != want_role:
        problem("%s: x-min-role is %r, the route table says %r"
                % (name, op.get("x-min-role"), want_role))
    if op.get("tags") != [route["tag"]]:
        problem("%s: tags %r, the route table says [%r]" % (name, op.get("tags"), route["tag"]))
    if not op.get("operationId"):
        problem("%s has no operationId" % name)
    responses = op.get("responses", {})
    if not any(str(code).startswith("2") for code in responses):
        problem("%s documents no 2xx response" % name)
    for code, resp in responses.items():
        resp = resolve(spec, resp)
        if not resp.get("description"):
            problem("%s: response %s has no description" % (name, code))
        if str(code) != "204" and "content" not in resp:
            problem("%s: response %s has no content" % (name, code))
    if not public and "401" not in responses:
        problem("%s needs a token but does not document 401" % name)
    if not public and route["min_role"] != "viewer" and "403" not in responses:
        problem("%s needs role %s but does not document 403" % (name, route["min_role"]))
    if route.get("long"):
        busy = resolve(spec, responses.get("503", {}))
        examples = busy.get("content", {}).get("application/json", {}).get("examples", {})
        if not any(resolve(spec, e).get("value", {}).get("code") == "apply_busy"
                   for e in examples.values()) or "Retry-After" not in busy.get("headers", {}):
            problem("%s is long work but its 503 shows no apply_busy with Retry-After" % name)
    if route.get("json_body"):
        if "requestBody" not in op:
            problem("%s reads a JSON body but documents none" % name)
        if "422" not in responses:
            problem("%s reads a JSON body but does not document 422" % name)
    declared = set()
    for p in op.get("parameters", []) + spec["paths"][path].get("parameters", []):
        p = resolve(spec, p)
        if p.get("in") == "path":
            declared.add(p.get("name"))
            if p.get("required") is not True:
                problem("%s: path parameter %s must be required" % (name, p.get("name")))
    wanted = set(re.findall(r"{([^}]+)}", path))
    if declared != wanted:
        problem("%s: path parameters declared %s, the path has %s"
                % (name, sorted(declared), sorted(wanted)))


def validate(spec_path):
    try:
        import openapi_spec_validator  # noqa: F401
    except ImportError:
        print("check-openapi: SKIP validation: the Python module openapi_spec_validator is not "
              "installed for %s (the agreement checks still run)" % sys.executable)
        return
    res = subprocess.run([sys.executable, "-m", "openapi_spec_validator", spec_path],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sys.stdout.write(res.stdout)
    if res.returncode != 0:
        problem("openapi-spec-validator rejects %s" % spec_path)


def main():
    with open(SPEC, encoding="utf-8") as f:
        spec = json.load(f)
    routes = load_routes()
    if not str(spec.get("openapi", "")).startswith("3.1"):
        problem("openapi is %r, want 3.1.x" % spec.get("openapi"))
    version = package_version()
    if spec.get("info", {}).get("version") != version:
        problem("info.version is %r, the package is %r"
                % (spec.get("info", {}).get("version"), version))
    scheme = spec.get("components", {}).get("securitySchemes", {}).get("bearerAuth", {})
    if scheme.get("type") != "http" or scheme.get("scheme") != "bearer":
        problem("components.securitySchemes.bearerAuth must be an http bearer scheme")
    if not has_bearer(spec.get("security")):
        problem("the global security must be bearerAuth")

    ops = operations(spec)
    seen = set()
    for route in routes:
        path = to_openapi_path(route["pattern"])
        key = (route["method"], path)
        if key in seen:
            problem("the route table has %s %s twice" % key)
        seen.add(key)
        if key not in ops:
            problem("route %s %s is not in the spec" % (route["method"], route["pattern"]))
            continue
        check_operation(spec, route, ops[key], path)
    for key in sorted(set(ops) - seen):
        problem("the spec documents %s %s, which is not a route (it would 404 or 405)" % key)

    route_tags = {r["tag"] for r in routes}
    spec_tags = [t.get("name") for t in spec.get("tags", [])]
    if len(spec_tags) != len(set(spec_tags)):
        problem("the spec lists a tag twice: %s" % spec_tags)
    if set(spec_tags) != route_tags:
        problem("spec tags %s differ from the route table's tags %s"
                % (sorted(set(spec_tags)), sorted(route_tags)))
    for t in spec.get("tags", []):
        if not t.get("description"):
            problem("tag %s has no description" % t.get("name"))
    op_ids = [op.get("operationId") for op in ops.values()]
    if len(op_ids) != len(set(op_ids)):
        problem("operationIds are not unique")
    check_refs(spec, spec)
    validate(SPEC)

    print("check-openapi: %d routes, %d documented operations, %d tags"
          % (len(routes), len(ops), len(spec_tags)))
    if problems:
        for p in problems:
            print("FAIL: " + p)
        return 1
    print("check-openapi: the route table and %s agree" % os.path.relpath(SPEC, BUILDDIR))
    return 0


if __name__ == "__main__":
    sys.exit(main())
