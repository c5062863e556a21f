#!/usr/bin/env python3
"""fake_llm.py: a local stand-in for the Anthropic Messages and OpenAI Chat
Completions APIs, for the API tests. Records every request as one JSON line.

The API key picks the behaviour:
  contains "invalid"  -> 401 in the provider's error shape
  contains "slow"     -> answers after --slow-seconds (past the client timeout)
  contains "garbage"  -> 200 with a completion whose text is not JSON
  contains "broken"   -> 200 whose HTTP body is not JSON at all
  anything else       -> 200; a "ping" gets a short text, a plan prompt gets
                         advice JSON naming the plan's first model (and one
                         model that is not in the plan, which must be dropped)
"""
import argparse
import json
import os
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
ARGS = None


def record(entry):
    with LOCK:
        with open(ARGS.record, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry, sort_keys=True) + "\n")


def plan_models(prompt):
    """Models listed as '1. schema.name (...)' in the plan prompt."""
    return re.findall(r"^\d+\. ([a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*) \(", prompt, re.M)


def reply_text(prompt):
    models = plan_models(prompt)
    if not models:
        return "pong"
    first = models[0]
    return "```json\n" + json.dumps({
        "summary": "Rebuilding %s and %d downstream models; review the change." % (
            first, len(models) - 1),
        "risk_notes": [
            {"model": first, "note": "Upstream of every other step."},
            {"model": "ghost.model", "note": "Not in the plan."},
        ],
        "optimizations": [
            {"model": first, "suggestion": "Filter early to cut the scan."},
        ],
    }) + "\n```"


def user_prompt(body, provider):
    for m in body.get("messages", []):
        if m.get("role") == "user" and isinstance(m.get("content"), str):
            return m["content"]
    return ""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: the record file is the log
        pass

    def send_json(self, status, obj=None, raw=None):
        data = raw if raw is not None else json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8", "replace")
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        headers = {k.lower(): v for k, v in self.headers.items()}
        record({"method": "POST", "path": self.path, "headers": headers,
                "body": body, "raw": raw})
        if self.path == "/v1/messages":
            self.anthropic(headers, body)
        elif self.path == "/v1/chat/completions":
            self.openai(headers, body)
        else:
            self.send_json(404, {"error": {"type": "not_found_error",
                                           "message": "no such path"}})

    def behave(self, key, error_status, error_body):
        """Handles the key-selected failure modes; True when answered."""
        if "invalid" in key or not key:
            self.send_json(error_status, error_body)
            return True
        if "slow" in key:
            time.sleep(ARGS.slow_seconds)
        if "broken" in key:
            self.send_json(200, raw=b"<html>upstream hiccup</html>")
            return True
        return False

    def anthropic(self, headers, body):
        key = headers.get("x-api-key", "")
        err = {"type": "error", "error": {"type": "authentication_error",
                                          "message": "invalid x-api-key"}}
        if headers.get("anthropic-version") is None or body is None:
            self.send_json(400, {"type": "error", "error": {
                "type": "invalid_request_error", "message": "bad request"}})
            return
        if self.behave(key, 401, err):
            return
        prompt = user_prompt(body, "anthropic")
        text = "This plan looks fine to me!" if "garbage" in key else reply_text(prompt)
        self.send_json(200, {
            "id": "msg_fake_01", "type": "message", "role": "assistant",
            "model": body.get("model"),
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn", "stop_sequence": None,
            "usage": {"input_tokens": len(prompt) // 4 + 1,
                      "output_tokens": len(text) // 4 + 1}})

    def openai(self, headers, body):
        auth = headers.get("authorization", "")
        key = auth[7:] if auth.startswith("Bearer ") else ""
        err = {"error": {"message": "Incorrect API key provided.",
                         "type": "invalid_request_error", "param": None,
                         "code": "invalid_api_key"}}
        if body is None:
            self.send_json(400, {"error": {"message": "bad json",
                                           "type": "invalid_request_error",
                                           "param": None, "code": None}})
            return
        if self.behave(key, 401, err):
            return
        prompt = user_prompt(body, "openai")
        text = "This plan looks fine to me!" if "garbage" in key else reply_text(prompt)
        self.send_json(200, {
            "id": "chatcmpl-fake01", "object": "chat.completion", "created": 1700000000,
            "model": body.get("model"),
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": len(prompt) // 4 + 1,
                      "completion_tokens": len(text) // 4 + 1,
                      "total_tokens": len(prompt) // 4 + len(text) // 4 + 2}})


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    p.add_argument("--record", required=True)
    p.add_argument("--slow-seconds", type=float, default=6.0)
    ARGS = p.parse_args()
    open(ARGS.record, "a").close()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    tmp = ARGS.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(tmp, ARGS.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
