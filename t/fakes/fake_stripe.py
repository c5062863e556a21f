#!/usr/bin/env python3
"""fake_stripe.py: a local stand-in for the parts of Stripe's API IronLayer calls.

Follows Stripe's public API reference for POST /v1/customers,
POST /v1/checkout/sessions and POST /v1/billing_portal/sessions:
form-encoded bodies with bracketed keys (metadata[k], line_items[0][price]),
"Authorization: Bearer sk_test_...", Idempotency-Key replays, and Stripe's
error shape {"error": {"type", "message", "param"}}.

Every request is appended to the record file as one JSON line
{"method", "path", "headers": {lower-case name: value}, "form": {key: value}}
so tests can assert on exactly what was sent. Listens on 127.0.0.1, port 0
by default; the chosen port is written to --port-file.

Out of band (not Stripe's API, not recorded): POST /__fake__/fail with JSON
{"path": "/v1/...", "status": 402, "count": 1} makes the next count requests
to path fail with that status and a Stripe error body.

Standard library only.
"""

import argparse
import json
import os
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

RECORDED_HEADERS = ("authorization", "idempotency-key", "content-type", "stripe-version")


class State:
    """Objects created so far and idempotency keys seen, shared by all threads."""

    def __init__(self, record_path):
        self.lock = threading.Lock()
        self.record_path = record_path
        self.customers = {}
        self.idempotency = {}  # key -> (path, form, status, body)
        self.failures = {}  # path -> [status, remaining count]

    def injected_failure(self, path):
        """The status to fail this request to path with, or None."""
        with self.lock:
            f = self.failures.get(path)
            if not f or f[1] <= 0:
                return None
            f[1] -= 1
            return f[0]

    def record(self, entry):
        line = json.dumps(entry, sort_keys=True)
        with self.lock, open(self.record_path, "a", encoding="utf-8") as f:
            f.write(line + "\n")
            f.flush()


def new_id(prefix, n=14):
    return prefix + secrets.token_hex(n)


def nest(form):
    """Stripe's bracket notation as nested objects: a[b][c]=v -> {"a": {"b": {"c": v}}}."""
    out = {}
    for key, value in form.items():
        parts = key.replace("]", "").split("[")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


def error(status, message, param=None, etype="invalid_request_error"):
    err = {"type": etype, "message": message}
    if param is not None:
        err["param"] = param
    return status, {"error": err}


def require(form, *names):
    for name in names:
        if not form.get(name):
            return error(400, "Missing required param: %s." % name, name)
    return None


def create_customer(state, form):
    obj = nest(form)
    cus = {
        "id": new_id("cus_", 7),
        "object": "customer",
        "created": int(time.time()),
        "email": form.get("email"),
        "name": form.get("name"),
        "metadata": obj.get("metadata", {}),
        "livemode": False,
    }
    with state.lock:
        state.customers[cus["id"]] = cus
    return 200, cus


def known_customer(state, form):
    cid = form.get("customer")
    if cid is None:
        return None
    with state.lock:
        if cid not in state.customers:
            return error(400, "No such customer: '%s'" % cid, "customer")
    return None


def create_checkout_session(state, form):
    problem = require(form, "mode", "success_url") or known_customer(state, form)
    if problem:
        return problem
    if form["mode"] not in ("payment", "setup", "subscription"):
        return error(400, "Invalid mode: must be one of payment, setup, or subscription", "mode")
    if form["mode"] == "subscription" and "line_items[0][price]" not in form:
        return error(400, "Missing required param: line_items.", "line_items")
    obj = nest(form)
    sid = new_id("cs_test_a1", 24)
    return 200, {
        "id": sid,
        "object": "checkout.session",
        "mode": form["mode"],
        "customer": form.get("customer"),
        "client_reference_id": form.get("client_reference_id"),
        "success_url": form["success_url"],
        "cancel_url": form.get("cancel_url"),
        "metadata": obj.get("metadata", {}),
        "status": "open",
        "payment_status": "unpaid",
        "subscription": None,
        "url": "https://checkout.stripe.com/c/pay/" + sid,
        "livemode": False,
    }


def create_portal_session(state, form):
    problem = require(form, "customer") or known_customer(state, form)
    if problem:
        return problem
    return 200, {
        "id": new_id("bps_1", 12),
        "object": "billing_portal.session",
        "customer": form["customer"],
        "return_url": form.get("return_url"),
        "url": "https://billing.stripe.com/p/session/test_" + secrets.token_hex(16),
        "livemode": False,
    }


ROUTES = {
    "/v1/customers": create_customer,
    "/v1/checkout/sessions": create_checkout_session,
    "/v1/billing_portal/sessions": create_portal_session,
}


class Handler(BaseHTTPRequestHandler):
    server_version = "fake-stripe/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("fake-stripe: " + (fmt % args) + "\n")

    def reply(self, status, body, replayed=False):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Request-Id", new_id("req_", 7))
        if replayed:
            self.send_header("Idempotent-Replayed", "true")
        self.end_headers()
        self.wfile.write(data)

    def read_form(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n).decode("utf-8") if n else ""
        return dict(parse_qsl(raw, keep_blank_values=True))

    def authorized(self):
        auth = self.headers.get("Authorization", "")
        return auth.startswith("Bearer sk_test_") and len(auth) > len("Bearer sk_test_")

    def control(self):
        n = int(self.headers.get("Content-Length") or 0)
        spec = json.loads(self.rfile.read(n) or b"{}")
        with self.server.state.lock:
            self.server.state.failures[spec["path"]] = [int(spec["status"]),
                                                         int(spec.get("count", 1))]
        self.reply(200, {"ok": True})

    def do_POST(self):
        if self.path == "/__fake__/fail":
            return self.control()
        form = self.read_form()
        headers = {h: self.headers[h] for h in RECORDED_HEADERS if self.headers.get(h)}
        self.server.state.record(
            {"method": "POST", "path": self.path, "headers": headers, "form": form})
        if not self.authorized():
            return self.reply(*error(401, "Invalid API Key provided."))
        failed = self.server.state.injected_failure(self.path)
        if failed is not None:
            etype = "api_error" if failed >= 500 else "card_error"
            return self.reply(*error(failed, "Injected failure.", etype=etype))
        route = ROUTES.get(self.path)
        if route is None:
            return self.reply(*error(404, "Unrecognized request URL (POST: %s)." % self.path))
        self.dispatch(route, form, self.headers.get("Idempotency-Key"))

    def dispatch(self, route, form, key):
        state = self.server.state
        if key:
            with state.lock:
                seen = state.idempotency.get(key)
            if seen is not None:
                if seen[0] != self.path or seen[1] != form:
                    return self.reply(*error(
                        400, "Keys for idempotent requests can only be used with the same "
                        "parameters they were first used with.", etype="idempotency_error"))
                return self.reply(seen[2], seen[3], replayed=True)
        status, body = route(state, form)
        if key and status < 500:
            with state.lock:
                state.idempotency[key] = (self.path, form, status, body)
        self.reply(status, body)

    def do_GET(self):
        self.server.state.record(
            {"method": "GET", "path": self.path, "headers": {}, "form": {}})
        self.reply(*error(404, "Unrecognized request URL (GET: %s)." % self.path))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--record", required=True)
    args = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.state = State(args.record)
    open(args.record, "a").close()
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.replace(tmp, args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
