"""A stand-in inference server: OpenAI-style SSE streaming with programmed delays.

It speaks /v1/completions and /v1/chat/completions the way llama.cpp's server and vLLM do
(chunked transfer encoding, one `data: {...}` event per token, an optional usage event,
`data: [DONE]`), and answers the GETs the runner probes. Token i of a request is written at
request arrival + ttft + i * itl, scheduled on the absolute clock so that delays do not add up.

Only the standard library: it runs in a thread of the test process and stops cleanly
(server_close joins every handler thread).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.runner.loader import tm

DEFAULTS = {
    # timing of timed requests (seconds)
    "ttft": 0.01,
    "itl": 0.002,
    # per timed request, overrides "ttft" (index 0 = first timed run)
    "ttft_by_run": None,
    # timing of the warm-up request (recognised by its prompt)
    "warmup_ttft": 0.005,
    "warmup_itl": 0.0005,
    # what the stream carries
    "usage": False,  # send a usage event when stream_options.include_usage asks for it
    "tokens_per_chunk": 1,  # tokens the usage report counts per streamed chunk
    "stop_after": None,  # end the stream after this many chunks (an end-of-sequence stop)
    "prompt_tokens": 517,
    "chunked": True,  # HTTP/1.1 chunked (like llama.cpp, uvicorn) or HTTP/1.0 close-delimited
    "headers_with_first_token": False,  # llama.cpp sends its headers with the first token
    "reject_extras": False,  # 400 on ignore_eos / stream_options (a strict server)
    # failure modes: "sse" (normal), "json" (ignores stream=true), "status" (HTTP error),
    # "stall" (never answers), "text" (plain text, not SSE), "error_event" (error mid-stream),
    # "empty" (a stream with no generated text), "not_json" and "bad_shape" (broken events)
    "mode": "sse",
    "status": 500,
    "status_body": {"error": {"message": "model is not loaded", "type": "server_error"}},
    # GET routes: path -> JSON answer; everything else is a 404
    "routes": None,
    "models": [{"id": "fake-model-7b", "object": "model", "owned_by": "trustbench-test"}],
}


class FakeEngine:
    def __init__(self, **config) -> None:
        unknown = set(config) - set(DEFAULTS)
        if unknown:
            raise TypeError(f"unknown FakeEngine settings: {sorted(unknown)}")
        self.config = dict(DEFAULTS, **config)
        self.requests: list[dict] = []  # {"path", "body", "arrived"}
        self.stop_event = threading.Event()
        self._lock = threading.Lock()
        self._timed = 0
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.engine = self
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def posts(self) -> list[dict]:
        with self._lock:
            return [r for r in self.requests if r["method"] == "POST"]

    def record(self, entry: dict) -> int:
        """Store a request; returns the index of a timed (non warm-up) request, or -1."""
        with self._lock:
            self.requests.append(entry)
            if entry.get("warmup") or entry["method"] != "POST":
                return -1
            self._timed += 1
            return self._timed - 1

    def close(self) -> None:
        self.stop_event.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> FakeEngine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() waits for every handler
    block_on_close = True
    engine: FakeEngine

    def handle_error(self, request, client_address) -> None:
        # A client that hung up (timeouts, failures under test) is expected, not an error.
        pass


def _prompt_of(body: dict) -> str:
    if "prompt" in body:
        return str(body["prompt"])
    messages = body.get("messages") or []
    return " ".join(str(m.get("content", "")) for m in messages if isinstance(m, dict))


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format, *args) -> None:
        pass

    # ------------------------------------------------------------------ GET probes

    def do_GET(self) -> None:
        engine = self.server.engine
        engine.record({"method": "GET", "path": self.path, "arrived": time.monotonic()})
        if self.path == "/v1/models":
            self._json(200, {"object": "list", "data": engine.config["models"]})
            return
        routes = engine.config["routes"] or {}
        if self.path in routes:
            self._json(200, routes[self.path])
            return
        self._json(404, {"error": {"message": f"File Not Found: {self.path}"}})

    # ------------------------------------------------------------------ POST streams

    def do_POST(self) -> None:
        arrived = time.monotonic()
        engine = self.server.engine
        config = engine.config
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        warmup = tm.WARMUP_PROMPT in _prompt_of(body)
        index = engine.record(
            {
                "method": "POST",
                "path": self.path,
                "body": body,
                "arrived": arrived,
                "warmup": warmup,
            }
        )
        chat = self.path == "/v1/chat/completions"
        if self.path not in ("/v1/completions", "/v1/chat/completions"):
            self._json(404, {"error": {"message": f"File Not Found: {self.path}"}})
            return
        if config["reject_extras"] and ("ignore_eos" in body or "stream_options" in body):
            self._json(400, {"error": {"message": "Extra inputs are not permitted: ignore_eos"}})
            return
        mode = config["mode"]
        if mode == "status":
            self._json(config["status"], config["status_body"])
            return
        if mode == "stall":
            engine.stop_event.wait(30)
            return
        if mode == "json":
            self._json(200, {"choices": [{"text": "hello", "finish_reason": "length"}]})
            return
        if mode == "text":
            self._raw(200, "text/plain", b"Service is starting, please wait\n")
            return
        if warmup:
            ttft, itl = config["warmup_ttft"], config["warmup_itl"]
        else:
            ttft, itl = config["ttft"], config["itl"]
            if config["ttft_by_run"] is not None:
                ttft = config["ttft_by_run"][index]
        self._stream(body, chat, arrived, ttft, itl)

    def _stream(self, body: dict, chat: bool, arrived: float, ttft: float, itl: float) -> None:
        config = self.server.engine.config
        chunked = config["chunked"]
        if not chunked:
            self.protocol_version = "HTTP/1.0"
            self.close_connection = True
        max_tokens = int(body.get("max_tokens", 16))
        per_chunk = config["tokens_per_chunk"]
        chunks = max(1, max_tokens // per_chunk)
        finish_reason = "length"
        if config["stop_after"] is not None and config["stop_after"] < chunks:
            chunks = config["stop_after"]
            finish_reason = "stop"
        try:
            headers_sent = False
            if not config["headers_with_first_token"]:
                self._start_stream(chunked)
                headers_sent = True
            if chat:
                first = {"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}
                if headers_sent:
                    self._event(first, chunked)
            if config["mode"] == "empty":
                chunks = 0
            for i in range(chunks):
                delay = arrived + ttft + i * itl - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                if not headers_sent:
                    self._start_stream(chunked)
                    headers_sent = True
                if config["mode"] == "error_event" and i == 2:
                    self._event({"error": {"message": "CUDA out of memory", "code": 500}}, chunked)
                    break
                if config["mode"] == "not_json" and i == 2:
                    self._write(b"data: {'text': 'single quotes'}\n\n", chunked)
                    break
                if config["mode"] == "bad_shape" and i == 2:
                    self._event({"choices": ["not an object"]}, chunked)
                    break
                if chat:
                    event = {"choices": [{"index": 0, "delta": {"content": f" t{i}"}}]}
                else:
                    event = {"choices": [{"index": 0, "text": f" t{i}", "finish_reason": None}]}
                self._event(event, chunked)
            if not headers_sent:
                self._start_stream(chunked)
            final = {"index": 0, "finish_reason": finish_reason}
            final.update({"delta": {}} if chat else {"text": ""})
            self._event({"choices": [final]}, chunked)
            options = body.get("stream_options") or {}
            if config["usage"] and options.get("include_usage"):
                usage = {
                    "prompt_tokens": config["prompt_tokens"],
                    "completion_tokens": chunks * per_chunk,
                    "total_tokens": config["prompt_tokens"] + chunks * per_chunk,
                }
                self._event({"choices": [], "usage": usage}, chunked)
            self._write(b"data: [DONE]\n\n", chunked)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _start_stream(self, chunked: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _event(self, event: dict, chunked: bool) -> None:
        self._write(b"data: " + json.dumps(event).encode() + b"\n\n", chunked)

    def _write(self, data: bytes, chunked: bool) -> None:
        if chunked:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        else:
            self.wfile.write(data)

    # ------------------------------------------------------------------ plain answers

    def _json(self, status: int, data) -> None:
        self._raw(status, "application/json", json.dumps(data).encode())

    def _raw(self, status: int, content_type: str, payload: bytes) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
