#!/usr/bin/env python3
"""fake_databricks.py: a local stand-in for the Databricks SQL Statement Execution API.

Follows the public API reference for
  POST /api/2.0/sql/statements                      (execute a statement)
  GET  /api/2.0/sql/statements/{statement_id}       (status, manifest, first chunk)
  POST /api/2.0/sql/statements/{statement_id}/cancel
with the StatementResponse shape {statement_id, status: {state, error: {error_code,
message}, sql_state}, manifest, result} and the REST error shape {error_code, message}.

Behaviour is steered by the statement text:
  fail_me       PENDING, RUNNING, then FAILED with a TABLE_OR_VIEW_NOT_FOUND message
  slow_me       RUNNING until cancelled; the cancel makes it CANCELED
  flaky_me      the first submit of that text answers 429 with Retry-After: 0
  slowdown_me   the first submit of that text answers 429 with Retry-After: 1
  busy_me       the first submit of that text answers 503 (no Retry-After)
  poll503_me    the first poll of the statement answers 503
  pollgone_me   every poll of the statement answers 503
  reject_me     the submit answers 400 INVALID_PARAMETER_VALUE
  leak_me       the submit answers 400 with the caller's Authorization header in the message
  redirect_me   (in the statement or the warehouse_id) the submit answers 302 to
                /redirect-target on this server, which a client must not follow
  otherwise     PENDING on submit, RUNNING on the first poll, SUCCEEDED on the second.
A succeeded statement reports rows the way Databricks reports DML: a one-row result with
num_affected_rows (5 for CREATE OR REPLACE TABLE … AS, 0 for CREATE TABLE IF NOT EXISTS,
7 for INSERT, 3 for MERGE); other statements (schemas, views) have an empty result.

Every request is appended to the record file as one JSON line
{"method", "path", "headers": {lower-case name: value}, "body": JSON or null}.
Listens on --host (127.0.0.1 by default), port 0 by default; the chosen port is
written to --port-file. With --tls-cert and --tls-key it serves HTTPS only, as
Databricks does.

Standard library only.
"""

import argparse
import json
import os
import re
import ssl
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RECORDED_HEADERS = ("authorization", "content-type", "user-agent", "accept")
STATEMENTS = "/api/2.0/sql/statements"
WAIT_TIMEOUT = re.compile(r"^(0|[5-9]|[1-4][0-9]|50)s$")


class State:
    """Statements submitted so far and one-shot faults already used, shared by all threads."""

    def __init__(self, record_path, token, warehouse):
        self.lock = threading.Lock()
        self.record_path = record_path
        self.token = token
        self.warehouse = warehouse
        self.statements = {}
        self.faulted = set()
        self.base_url = ""

    def record(self, entry):
        line = json.dumps(entry, sort_keys=True)
        with self.lock, open(self.record_path, "a", encoding="utf-8") as f:
            f.write(line + "\n")
            f.flush()

    def first_time(self, key):
        with self.lock:
            if key in self.faulted:
                return False
            self.faulted.add(key)
            return True


def api_error(status, code, message):
    return status, {"error_code": code, "message": message}


def dml_result(statement):
    """The result Databricks gives for the statement once it has succeeded."""
    text = statement.lstrip().upper()
    if text.startswith("CREATE OR REPLACE TABLE"):
        names, values = ["num_affected_rows", "num_inserted_rows"], ["5", "5"]
    elif text.startswith("CREATE TABLE"):
        names, values = ["num_affected_rows", "num_inserted_rows"], ["0", "0"]
    elif text.startswith("INSERT"):
        names, values = ["num_affected_rows", "num_inserted_rows"], ["7", "7"]
    elif text.startswith("MERGE"):
        names = ["num_affected_rows", "num_updated_rows", "num_deleted_rows",
                 "num_inserted_rows"]
        values = ["3", "1", "0", "2"]
    else:
        return {"format": "JSON_ARRAY", "schema": {"column_count": 0, "columns": []},
                "total_chunk_count": 0, "chunks": [], "total_row_count": 0,
                "truncated": False}, {}
    columns = [{"name": n, "position": i, "type_name": "LONG", "type_text": "bigint"}
               for i, n in enumerate(names)]
    manifest = {"format": "JSON_ARRAY",
                "schema": {"column_count": len(names), "columns": columns},
                "total_chunk_count": 1,
                "chunks": [{"chunk_index": 0, "row_offset": 0, "row_count": 1}],
                "total_row_count": 1, "truncated": False}
    result = {"chunk_index": 0, "row_offset": 0, "row_count": 1, "data_array": [values]}
    return manifest, result


def response(stmt):
    """The StatementResponse for a statement in its current state."""
    out = {"statement_id": stmt["id"], "status": {"state": stmt["state"]}}
    if stmt["state"] == "FAILED":
        out["status"]["error"] = {
            "error_code": "BAD_REQUEST",
            "message": "[TABLE_OR_VIEW_NOT_FOUND] The table or view `fail_me` cannot be "
                       "found. Verify the spelling and correctness of the schema and "
                       "catalog. SQLSTATE: 42P01"}
        out["status"]["sql_state"] = "42P01"
    elif stmt["state"] == "SUCCEEDED":
        out["manifest"], out["result"] = dml_result(stmt["statement"])
    return out


def advance(stmt):
    """One poll's worth of progress: PENDING -> RUNNING -> SUCCEEDED or FAILED."""
    if stmt["state"] == "PENDING":
        stmt["state"] = "RUNNING"
    elif stmt["state"] == "RUNNING" and "slow_me" not in stmt["statement"]:
        stmt["state"] = "FAILED" if "fail_me" in stmt["statement"] else "SUCCEEDED"


def check_submit(state, body, headers):
    """An error reply for a submit the real API would refuse, or None."""
    if not isinstance(body, dict) or not isinstance(body.get("statement"), str):
        return api_error(400, "INVALID_PARAMETER_VALUE", "statement is required")
    if not isinstance(body.get("warehouse_id"), str) or not body["warehouse_id"]:
        return api_error(400, "INVALID_PARAMETER_VALUE", "warehouse_id is required")
    if state.warehouse and body["warehouse_id"] != state.warehouse:
        return api_error(404, "NOT_FOUND",
                         "Warehouse %s does not exist." % body["warehouse_id"])
    if not WAIT_TIMEOUT.match(body.get("wait_timeout", "10s")):
        return api_error(400, "INVALID_PARAMETER_VALUE",
                         "wait_timeout must be 0s or between 5s and 50s")
    if body.get("on_wait_timeout", "CONTINUE") not in ("CONTINUE", "CANCEL"):
        return api_error(400, "INVALID_PARAMETER_VALUE", "on_wait_timeout is invalid")
    text = body["statement"]
    if "reject_me" in text:
        return api_error(400, "INVALID_PARAMETER_VALUE",
                         "[PARSE_SYNTAX_ERROR] Syntax error at or near 'reject_me'.")
    if "leak_me" in text:
        return api_error(400, "INVALID_PARAMETER_VALUE",
                         "bad request from %s" % headers.get("authorization", ""))
    return None


def submit(state, body, headers):
    if isinstance(body, dict) and any("redirect_me" in str(body.get(k, ""))
                                      for k in ("statement", "warehouse_id")):
        return 302, {"message": "moved"}, {"Location": state.base_url + "/redirect-target"}
    refused = check_submit(state, body, headers)
    if refused is not None:
        return refused
    text = body["statement"]
    for marker, wait in (("flaky_me", "0"), ("slowdown_me", "1")):
        if marker in text and state.first_time(("submit", text)):
            return 429, {"error_code": "TOO_MANY_REQUESTS",
                         "message": "Too many requests. Please wait a moment and try again."
                         }, {"Retry-After": wait}
    if "busy_me" in text and state.first_time(("submit", text)):
        return api_error(503, "TEMPORARILY_UNAVAILABLE", "The service is temporarily "
                         "unavailable.")
    stmt = {"id": "01ef" + uuid.uuid4().hex[:4] + "-" + str(uuid.uuid4())[9:],
            "statement": text, "state": "PENDING"}
    with state.lock:
        state.statements[stmt["id"]] = stmt
    return 200, response(stmt)


def get_statement(state, sid):
    with state.lock:
        stmt = state.statements.get(sid)
        if stmt is None:
            return api_error(404, "NOT_FOUND", "The statement %s was not found." % sid)
        if ("pollgone_me" in stmt["statement"] or
                ("poll503_me" in stmt["statement"] and ("poll", sid) not in state.faulted)):
            state.faulted.add(("poll", sid))
            return api_error(503, "TEMPORARILY_UNAVAILABLE", "Please try again later.")
        advance(stmt)
        return 200, response(stmt)


def cancel_statement(state, sid):
    with state.lock:
        stmt = state.statements.get(sid)
        if stmt is None:
            return api_error(404, "NOT_FOUND", "The statement %s was not found." % sid)
        if stmt["state"] in ("PENDING", "RUNNING"):
            stmt["state"] = "CANCELED"
        return 200, {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeDatabricks/1.0"

    def log_message(self, fmt, *args):
        sys.stderr.write("fake-databricks: " + (fmt % args) + "\n")

    def reply(self, status, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def handle_request(self, method):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        headers = {k.lower(): v for k, v in self.headers.items()
                   if k.lower() in RECORDED_HEADERS}
        state = self.server.state
        state.record({"method": method, "path": self.path, "headers": headers, "body": body})
        auth = headers.get("authorization", "")
        if not auth.startswith("Bearer ") or (state.token and auth != "Bearer " + state.token):
            return self.reply(401, {"error_code": "UNAUTHENTICATED",
                                    "message": "Invalid access token."})
        parts = self.path.split("?")[0].rstrip("/").split("/")
        rest = parts[5:] if parts[:5] == STATEMENTS.split("/") else None
        if method == "POST" and rest == []:
            return self.reply(*submit(state, body, headers))
        if method == "GET" and rest is not None and len(rest) == 1:
            return self.reply(*get_statement(state, rest[0]))
        if method == "POST" and rest is not None and len(rest) == 2 and rest[1] == "cancel":
            return self.reply(*cancel_statement(state, rest[0]))
        return self.reply(404, {"error_code": "ENDPOINT_NOT_FOUND",
                                "message": "No API found for '%s %s'" % (method, self.path)})

    def do_GET(self):
        self.handle_request("GET")

    def do_POST(self):
        self.handle_request("POST")


class Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # e.g. a client speaking plain HTTP to the TLS port: one line, no traceback
        sys.stderr.write("fake-databricks: connection from %s failed: %s\n"
                         % (client_address[0], sys.exc_info()[1]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--record", required=True)
    ap.add_argument("--token", default="", help="the only bearer token accepted")
    ap.add_argument("--warehouse", default="", help="the only warehouse_id accepted")
    ap.add_argument("--host", default="127.0.0.1", help="the loopback address to listen on")
    ap.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM)")
    ap.add_argument("--tls-key", help="the certificate's private key (PEM)")
    args = ap.parse_args()

    server = Server((args.host, args.port), Handler)
    server.daemon_threads = True
    server.state = State(args.record, args.token, args.warehouse)
    scheme = "http"
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        # the handshake happens in the request's thread, not in accept()
        server.socket = ctx.wrap_socket(server.socket, server_side=True,
                                        do_handshake_on_connect=False)
        scheme = "https"
    server.state.base_url = "%s://%s:%d" % (scheme, args.host, server.server_address[1])
    tmp = args.port_file + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("%d\n" % server.server_address[1])
    os.replace(tmp, args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
