#!/usr/bin/env python3
"""trustbench-measure: time a local inference server by the Trustbench reproduction protocol.

One file, standard library only, Python 3.9 or newer: copy it onto the inference box and run

    python3 measure.py --endpoint http://127.0.0.1:8080

It talks to any OpenAI-compatible streaming endpoint (llama.cpp's server, Ollama's /v1, vLLM,
SGLang, LM Studio, TGI) through /v1/completions (default) or /v1/chat/completions (--api chat):

1. a warm-up request (a ~200-token prompt, WARMUP_PROMPT) whose answer is discarded;
2. N timed runs (--runs, 3..10, default 3) of one fixed ~500-token prompt (PROMPT, the same for
   every operator; its sha256 goes into the result) with max_tokens 512, temperature 0 and a
   fixed seed, streamed (server-sent events). It asks for the usage report in the stream and,
   where the engine allows it (llama.cpp, vLLM, SGLang), to ignore end-of-sequence so that every
   run generates max_tokens (and, for llama.cpp, not to reuse a cached prompt). An engine that
   refuses these extra fields (HTTP 400/422 on the warm-up) gets the plain request.
   Each request starts with a short header naming the session and the run ("[trustbench
   3f9a1c2e run 2]"): engines keep prompt prefixes in a cache (llama.cpp, vLLM, SGLang,
   Ollama), and a repeated prompt would make TTFT measure a cache hit instead of prefill;
3. per run, on time.monotonic(): T0 just before the request is sent, T1 when the first
   generated text arrives, T2 when the last generated text arrives. TTFT = T1 - T0 (ms);
   decode = tokens_generated / (T2 - T1) (tok/s), never over T2 - T0. Tokens come from the
   server's usage report when it gives one, else from counting the streamed text chunks
   ("token_count_source": "usage" | "stream" per run; the top level says "mixed" if runs differ);
4. median and spread = (max - min) / median of each metric; a spread above 10% needs a note;
5. VRAM high-water mark during the timed runs, on the machine the runner runs on: nvidia-smi in
   its own loop every 100 ms, or the amdgpu driver's sysfs counters (what rocm-smi reads) every
   100 ms, or `rocm-smi --showmeminfo vram --json` every 250 ms. The peak is the highest
   simultaneous SUM of memory used over all GPUs of the machine, in MiB (it includes memory of
   other processes); per-GPU peaks are listed beside it. No tool: the field is null and says so;
6. build context without asking: runtime and version from the engine's own endpoints, driver and
   CUDA/ROCm versions, GPU name and count, OS. What it cannot find is listed under "missing".

The result file (--out, default trustbench-result.json) is JSON, {"format": "trustbench-result",
"version": 1, ...}. Raw timestamps are in seconds relative to T0 of the first timed run. Nothing
identifying is written: no endpoint address, host name, API key or file path (a model that the
server names by its path on disk is written by its file name). Its keys:

    format, version, runner, runner_version, runner_sha256 (of this file), created_at (UTC),
    model, model_info {id, owned_by, file}, prompt_sha256, prompt {chars, warmup_sha256, ...},
    settings {api, path, runs, max_tokens, seed, temperature, stream, concurrency, timeout_s,
              warmup_max_tokens, usage_requested, ignore_eos_requested},
    clock {source, unit, origin, t0, t1, t2, t_end}, warmup {discarded, duration_s, ...},
    runs [{index, ttft_ms, decode_tps, tokens_generated, token_count_source, prompt_tokens,
           content_chunks, finish_reason, done_marker, prompt_header, engine_timings,
           t0_s, t1_s, t2_s, t_end_s}],
    summary {ttft_ms, decode_tps, tokens_generated, prompt_tokens: {median, min, max, spread}},
    spread_needs_note [metric names], token_count_source ("usage" | "stream" | "mixed"),
    vram {peak_mib, per_gpu_peak_mib, first_sample_mib, tool, samples, max_interval_ms, scope,
          note}, environment {runtime, runtime_version, runtime_source, gpu_vendor, gpu_name,
    gpu_names, gpu_count, gpu_memory_total_mib, driver_version, cuda_version, rocm_version,
    metal, os, kernel, cpu, python}, missing [what could not be found].

Exit codes: 0 done; 1 internal error; 2 bad arguments; 3 endpoint unreachable; 4 the server
answered with an error (model not loaded, wrong path); 5 the answer is not a usable stream;
6 a request timed out (--timeout); 7 the result file cannot be written; 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import ssl
import statistics
import subprocess  # nosec B404 - runs nvidia-smi/rocm-smi by absolute path, fixed args, no shell
import sys
import threading
import time
import uuid
from urllib.parse import urlsplit

RUNNER_NAME = "trustbench-measure"
RUNNER_VERSION = "1.0"
RESULT_FORMAT = "trustbench-result"
RESULT_VERSION = 1

MIN_RUNS = 3
MAX_RUNS = 10
DEFAULT_RUNS = 3
DEFAULT_MAX_TOKENS = 512
DEFAULT_SEED = 42
DEFAULT_TIMEOUT = 120.0
WARMUP_MAX_TOKENS = 32
SPREAD_NOTE_THRESHOLD = 0.10
MAX_SSE_LINE = 1 << 20
READ_SIZE = 1 << 16
PROBE_TIMEOUT = 3.0
TOOL_TIMEOUT = 10.0
NVIDIA_LOOP_MS = 100
POLL_INTERVAL = 0.1
ROCM_SMI_INTERVAL = 0.25
MIB = 1024 * 1024

# A model id that is a path on disk is written by its file name (public_model_name): the
# separators, a Windows drive, and the extensions of model weight files.
MODEL_PATH_SEPARATOR = re.compile(r"[\\/]")
MODEL_PATH_DRIVE = re.compile(r"[A-Za-z]:[\\/]")
MODEL_FILE_EXTENSIONS = (".gguf", ".ggml", ".bin", ".safetensors", ".pt", ".pth", ".onnx")

# Where the amdgpu driver publishes its counters; the tests point these elsewhere.
DRM_ROOT = "/sys/class/drm"
ROCM_VERSION_FILE = "/opt/rocm/.info/version"
OS_RELEASE_FILE = "/etc/os-release"

# The timed prompt: the same text for every operator. 395 English words, about 500 tokens with
# the usual LLM tokenizers; the engine's own count is recorded per run. Changing one character
# changes PROMPT_SHA256, and results no longer match.
PROMPT = (
    "You are preparing a training handbook for new staff at a regional water utility. "
    "Below are notes from the operations team. Read them carefully, then write a long, "
    "detailed, well-organised chapter for the handbook that explains every stage of the "
    "treatment process in plain language, gives the reason for each step, describes what can "
    "go wrong and how operators notice it, and ends with a checklist for the first week on the "
    "job. Write at least eight hundred words and do not stop early.\n"
    "\n"
    "Notes from the operations team:\n"
    "\n"
    "Raw water arrives from two sources: a river intake upstream of the town and three wells "
    "on the eastern plateau. River water changes quickly after heavy rain; it carries clay, "
    "leaves and sometimes algae in late summer. Well water is clear and cold but hard, with "
    "dissolved iron and manganese that stain laundry if they are not removed.\n"
    "\n"
    "At the intake, coarse screens stop branches and fish. The water then passes to rapid-mix "
    "tanks where a coagulant is dosed. The dose depends on turbidity, temperature and "
    "alkalinity, and the night shift checks it with jar tests every four hours. Flocculation "
    "basins follow, with slow paddles that let small particles gather into larger flocs. In "
    "the sedimentation basins most of the floc settles; sludge is pumped to drying beds twice "
    "a week.\n"
    "\n"
    "Filtration uses twelve dual-media filters of anthracite over sand. Each filter is "
    "backwashed when head loss passes two metres or after seventy-two hours, whichever comes "
    "first. Filtered water turbidity must stay below 0.1 NTU; a rise on one filter usually "
    "means a broken underdrain or a backwash that was cut short.\n"
    "\n"
    "Disinfection is by chlorine gas with a contact tank sized for thirty minutes at peak "
    "flow. Operators hold free chlorine at the tank outlet between 0.8 and 1.2 mg/L and adjust "
    "for temperature, because cold water needs longer contact. Fluoride and a corrosion "
    "inhibitor are added before the clear well. The distribution system has four storage "
    "towers; their levels, the pump schedule and the chlorine residual at twenty sampling taps "
    "are reviewed each morning by the duty engineer, who signs the daily sheet.\n"
    "\n"
    "Laboratory staff test for coliform bacteria daily, metals weekly and a long list of "
    "organic compounds each quarter. Every result, every alarm and every manual adjustment "
    "goes into the shift log, which regulators may inspect at any time without notice.\n"
    "\n"
    "Chapter:\n"
)

# The warm-up prompt (150 words, about 200 tokens): loads the model, primes the KV cache.
WARMUP_PROMPT = (
    "This is a warm-up request; its answer is discarded. A bakery lights its ovens an hour "
    "before the first loaves go in. The stones have to reach an even heat, the steam "
    "injectors need to be tested, and the proofing cabinets must hold the dough at the right "
    "temperature and humidity. The first batch is always the least predictable: the crust "
    "colours unevenly, the oven spring is weaker, and the bakers watch it closely before they "
    "trust the timings for the rest of the day. By the second batch the ovens have settled and "
    "every tray behaves like the one before it. Explain in a short paragraph why the first "
    "batch differs from the ones after it, and what a careful baker does about it. Mention "
    "the thermal mass of the stones, the humidity of the proofing cabinets and the timing of "
    "the first batch, and keep the answer brief.\n"
)

PROMPT_SHA256 = hashlib.sha256(PROMPT.encode("utf-8")).hexdigest()
WARMUP_SHA256 = hashlib.sha256(WARMUP_PROMPT.encode("utf-8")).hexdigest()

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
EXIT_SERVER_ERROR = 4
EXIT_PROTOCOL = 5
EXIT_TIMEOUT = 6
EXIT_OUTPUT = 7
EXIT_INTERRUPTED = 130


class MeasureError(Exception):
    """A failure with a one-line reason for the operator and an exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _one_line(text: object, limit: int = 240) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


# --------------------------------------------------------------------------- endpoint


class Endpoint:
    """Where the server is: scheme, host, port and an optional path prefix (reverse proxies)."""

    def __init__(self, url: str, api_key: str | None = None) -> None:
        text = url.strip()
        if "://" not in text:
            text = "http://" + text
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https"):
            raise MeasureError("--endpoint must be an http:// or https:// address", EXIT_USAGE)
        if not parts.hostname:
            raise MeasureError(f"--endpoint has no host: {url!r}", EXIT_USAGE)
        try:
            port = parts.port
        except ValueError:
            raise MeasureError(f"--endpoint has a bad port: {url!r}", EXIT_USAGE) from None
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = port or (443 if self.scheme == "https" else 80)
        prefix = parts.path.rstrip("/")
        if prefix.endswith("/v1"):
            prefix = prefix[: -len("/v1")]
        self.prefix = prefix
        self.api_key = api_key
        self.display = f"{self.scheme}://{parts.netloc.rpartition('@')[2]}{prefix}"

    def connect(self, timeout: float) -> http.client.HTTPConnection:
        """An open connection; MeasureError (unreachable) when the server cannot be reached."""
        if self.scheme == "https":
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                self.host, self.port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.connect()
        except (OSError, http.client.HTTPException) as error:
            conn.close()
            raise MeasureError(
                f"endpoint unreachable: {self.display}: {_describe_oserror(error)}",
                EXIT_UNREACHABLE,
            ) from None
        sock = conn.sock
        if sock is not None and self.scheme == "http":
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn

    def headers(self, body: bool) -> dict:
        headers = {"Accept": "text/event-stream" if body else "application/json"}
        headers["User-Agent"] = f"{RUNNER_NAME}/{RUNNER_VERSION}"
        if body:
            headers["Content-Type"] = "application/json"
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def get_json(self, path: str, timeout: float = PROBE_TIMEOUT):
        """GET prefix+path; (status, parsed JSON or None). Raises MeasureError when unreachable."""
        conn = self.connect(timeout)
        try:
            conn.request("GET", self.prefix + path, headers=self.headers(body=False))
            response = conn.getresponse()
            raw = response.read(MAX_SSE_LINE)
            status = response.status
        except (OSError, http.client.HTTPException):
            return 0, None
        finally:
            conn.close()
        try:
            return status, json.loads(raw.decode("utf-8", "replace"))
        except ValueError:
            return status, None


def _describe_oserror(error: BaseException) -> str:
    if isinstance(error, ConnectionRefusedError):
        return "connection refused (is the server running, and on this port?)"
    if isinstance(error, socket.gaierror):
        return "host name not found"
    if isinstance(error, socket.timeout):
        return "no answer (connection timed out)"
    if isinstance(error, ssl.SSLError):
        return f"TLS error: {_one_line(error)}"
    return _one_line(f"{type(error).__name__}: {error}")


def _error_text(raw: bytes) -> str:
    """The server's own error message, from the usual JSON shapes or the raw text."""
    text = raw.decode("utf-8", "replace")
    try:
        data = json.loads(text)
    except ValueError:
        return _one_line(text, 200) or "(no message)"
    if isinstance(data, dict):
        for key in ("error", "detail", "message"):
            value = data.get(key)
            if isinstance(value, dict):
                value = value.get("message") or value.get("msg") or value
            if isinstance(value, list) and value and isinstance(value[0], dict):
                value = value[0].get("msg") or value[0]
            if value:
                return _one_line(value, 200)
    return _one_line(text, 200)


# --------------------------------------------------------------------------- one streamed run


class StreamResult:
    """What one streamed request gave: timestamps (monotonic seconds) and counts."""

    __slots__ = (
        "t0",
        "t1",
        "t2",
        "t_end",
        "content_chunks",
        "usage",
        "finish_reason",
        "done_marker",
        "engine_timings",
    )

    def __init__(self) -> None:
        self.t0 = 0.0
        self.t1: float | None = None
        self.t2: float | None = None
        self.t_end = 0.0
        self.content_chunks = 0
        self.usage: dict | None = None
        self.finish_reason: str | None = None
        self.done_marker = False
        self.engine_timings: dict | None = None


def request_body(
    api: str,
    model: str | None,
    prompt: str,
    max_tokens: int,
    seed: int,
    extras: bool,
) -> dict:
    body: dict = {}
    if model:
        body["model"] = model
    if api == "chat":
        body["messages"] = [{"role": "user", "content": prompt}]
    else:
        body["prompt"] = prompt
    body["max_tokens"] = max_tokens
    body["temperature"] = 0
    body["seed"] = seed
    body["stream"] = True
    if extras:
        body["stream_options"] = {"include_usage": True}
        body["ignore_eos"] = True  # llama.cpp, vLLM, SGLang: generate all max_tokens
        body["cache_prompt"] = False  # llama.cpp: do not reuse a cached prompt prefix
    return body


def api_path(api: str) -> str:
    return "/v1/chat/completions" if api == "chat" else "/v1/completions"


class RunTimeout(Exception):
    pass


def consume_stream(read1, chat: bool, result: StreamResult, deadline: float, sock) -> None:
    """Read server-sent events until [DONE] or the end of the stream, stamping T1 and T2.

    read1 is HTTPResponse.read1: it returns what has arrived (one chunk of a chunked answer,
    usually one event), so each token costs one read, one clock read, one split and one
    json.loads. Every line of a block gets the block's arrival time.
    """
    monotonic = time.monotonic
    loads = json.loads
    settimeout = sock.settimeout if sock is not None else None
    saw_data = False
    finished = False
    t1 = None
    t2 = None
    chunks = 0
    pending = b""
    now = monotonic()
    while not finished:
        if settimeout is not None:
            remaining = deadline - now
            if remaining <= 0:
                raise RunTimeout()
            settimeout(remaining)
        try:
            block = read1(READ_SIZE)
        except socket.timeout:  # noqa: UP041 - on Python 3.9 it is not TimeoutError
            raise RunTimeout() from None
        now = monotonic()
        if block:
            if pending:
                block = pending + block
            lines = block.split(b"\n")
            pending = lines.pop()
            if len(pending) > MAX_SSE_LINE:
                raise MeasureError("the stream sent a line longer than 1 MiB", EXIT_PROTOCOL)
        else:
            lines = [pending] if pending else []
            finished = True
        for line in lines:
            if line[:5] != b"data:":
                stripped = line.strip()
                if not stripped or line[:1] == b":" or line[:6] in (b"event:", b"retry:"):
                    continue
                if line[:3] == b"id:":
                    continue
                if not saw_data:
                    raise MeasureError(
                        "the endpoint did not answer with a stream (server-sent events); "
                        f"it sent: {_one_line(stripped.decode('utf-8', 'replace'), 120)}",
                        EXIT_PROTOCOL,
                    )
                continue
            saw_data = True
            payload = line[5:].strip()
            if payload == b"[DONE]":
                result.done_marker = True
                finished = True
                break
            if not payload:
                continue
            try:
                event = loads(payload)
            except ValueError:
                raise MeasureError(
                    "the stream carried an event that is not JSON: "
                    f"{_one_line(payload.decode('utf-8', 'replace'), 120)}",
                    EXIT_PROTOCOL,
                ) from None
            if not isinstance(event, dict):
                continue
            if event.get("error"):
                raise MeasureError(
                    f"the server reported an error in the stream: {_error_text(payload)}",
                    EXIT_SERVER_ERROR,
                )
            try:
                choices = event.get("choices")
                if choices:
                    choice = choices[0]
                    if chat:
                        delta = choice.get("delta")
                        text = None
                        if delta:
                            # reasoning models stream their thinking first: tokens all the same
                            text = (
                                delta.get("content")
                                or delta.get("reasoning_content")
                                or delta.get("reasoning")
                            )
                    else:
                        text = choice.get("text")
                    if text:
                        chunks += 1
                        if t1 is None:
                            t1 = now
                        t2 = now
                    finish = choice.get("finish_reason")
                    if finish:
                        result.finish_reason = str(finish)
            except (AttributeError, IndexError, KeyError, TypeError):
                raise MeasureError(
                    "the stream carried an event of an unexpected shape: "
                    f"{_one_line(payload.decode('utf-8', 'replace'), 120)}",
                    EXIT_PROTOCOL,
                ) from None
            usage = event.get("usage")
            if usage and isinstance(usage, dict):
                result.usage = usage
            timings = event.get("timings")
            if timings and isinstance(timings, dict):
                result.engine_timings = timings
    if not saw_data:
        raise MeasureError(
            "the endpoint did not answer with a stream: no 'data:' events arrived", EXIT_PROTOCOL
        )
    result.t1 = t1
    result.t2 = t2
    result.t_end = now
    result.content_chunks = chunks


def stream_once(
    endpoint: Endpoint,
    api: str,
    body: dict,
    timeout: float,
    label: str,
    require_text: bool = True,
) -> StreamResult:
    """Send one streamed request and time it. MeasureError on any failure."""
    payload = json.dumps(body).encode("utf-8")
    headers = endpoint.headers(body=True)
    path = endpoint.prefix + api_path(api)
    conn = endpoint.connect(timeout)
    result = StreamResult()
    try:
        sock = conn.sock
        result.t0 = time.monotonic()
        deadline = result.t0 + timeout
        try:
            conn.request("POST", path, body=payload, headers=headers)
            response = conn.getresponse()
        except socket.timeout:  # noqa: UP041 - on Python 3.9 it is not TimeoutError
            raise RunTimeout() from None
        except (OSError, http.client.HTTPException) as error:
            raise MeasureError(
                f"{label}: the connection failed: {_describe_oserror(error)}", EXIT_UNREACHABLE
            ) from None
        if response.status != 200:
            raw = b""
            with contextlib.suppress(OSError, http.client.HTTPException):
                raw = response.read(65536)
            raise HttpStatusError(response.status, _error_text(raw), path, label)
        content_type = (response.getheader("Content-Type") or "").lower()
        if "application/json" in content_type:
            raise MeasureError(
                f"{label}: the endpoint answered with one JSON document, not a stream: it "
                "ignored stream=true (streaming switched off or not supported)",
                EXIT_PROTOCOL,
            )
        try:
            consume_stream(response.read1, api == "chat", result, deadline, sock)
        except (OSError, http.client.HTTPException) as error:
            raise MeasureError(
                f"{label}: the stream broke off: {_describe_oserror(error)}", EXIT_PROTOCOL
            ) from None
    except RunTimeout:
        raise MeasureError(
            f"{label} timed out after {timeout:g} s (--timeout)", EXIT_TIMEOUT
        ) from None
    finally:
        conn.close()
    if result.t1 is None and require_text:
        raise MeasureError(f"{label}: the stream ended without any generated text", EXIT_PROTOCOL)
    return result


class HttpStatusError(MeasureError):
    def __init__(self, status: int, message: str, path: str, label: str) -> None:
        hint = ""
        if status == 404:
            hint = " (is the model loaded and named right, and does the server offer this path?)"
        elif status in (401, 403):
            hint = " (does the server need --api-key?)"
        elif status >= 500:
            hint = " (is the model loaded?)"
        super().__init__(
            f"{label}: the server answered HTTP {status} on {path}: {message}{hint}",
            EXIT_SERVER_ERROR,
        )
        self.status = status
        self.server_message = message


# --------------------------------------------------------------------------- runtime probe


RUNTIME_HINTS = {
    "llamacpp": "llama.cpp",
    "vllm": "vllm",
    "sglang": "sglang",
    "library": "ollama",
    "ollama": "ollama",
    "organization_owner": "lm-studio",
    "tgi": "tgi",
}


def discover_models(endpoint: Endpoint) -> list:
    """The models the endpoint lists (GET /v1/models). Raises MeasureError if unreachable."""
    status, data = endpoint.get_json("/v1/models", timeout=PROBE_TIMEOUT * 3)
    if status in (401, 403):
        raise MeasureError(
            f"the server answered HTTP {status} on /v1/models: it needs --api-key",
            EXIT_SERVER_ERROR,
        )
    if status != 200 or not isinstance(data, dict):
        return []
    models = data.get("data") or data.get("models") or []
    return [m for m in models if isinstance(m, dict) and m.get("id")]


def probe_runtime(endpoint: Endpoint, models: list) -> dict:
    """Runtime name and version from the engine's own endpoints, where it tells."""
    owned_by = ""
    if models:
        owned_by = str(models[0].get("owned_by") or "")
    hint = RUNTIME_HINTS.get(owned_by.lower(), "")
    runtime = {"name": None, "version": None, "source": None, "model_file": None}

    def get(path: str):
        try:
            return endpoint.get_json(path)
        except MeasureError:
            return 0, None

    status, props = get("/props")
    if (
        status == 200
        and isinstance(props, dict)
        and ("build_info" in props or "default_generation_settings" in props)
    ):
        runtime.update(name="llama.cpp", source="GET /props")
        build = props.get("build_info")
        if build:
            runtime["version"] = str(build)
        model_path = props.get("model_path")
        if isinstance(model_path, str) and model_path:
            runtime["model_file"] = os.path.basename(model_path.replace("\\", "/"))
        return runtime
    # Engines that answer a version document: Ollama, then vLLM (or SGLang, which also
    # serves /version: the hint tells them apart), then SGLang's own server info.
    vllm_or_sglang = hint if hint in ("sglang", "vllm") else "vllm"
    for path, engine in (("/api/version", "ollama"), ("/version", vllm_or_sglang),
                         ("/get_server_info", "sglang")):
        status, data = get(path)
        if status == 200 and isinstance(data, dict) and data.get("version"):
            runtime.update(name=engine, version=str(data["version"]), source=f"GET {path}")
            return runtime
    status, data = get("/info")
    if status == 200 and isinstance(data, dict) and data.get("model_id") and data.get("version"):
        runtime.update(name="tgi", version=str(data["version"]), source="GET /info")
        return runtime
    status, data = get("/openapi.json")
    if status == 200 and isinstance(data, dict) and isinstance(data.get("info"), dict):
        title = str(data["info"].get("title") or "")
        if "llama.cpp python" in title.lower():
            runtime.update(
                name="llama-cpp-python",
                version=str(data["info"].get("version") or "") or None,
                source="GET /openapi.json",
            )
            return runtime
    if hint:
        runtime.update(name=hint, source="owned_by in GET /v1/models")
    return runtime


# --------------------------------------------------------------------------- environment


def _run_tool(args: list, timeout: float = TOOL_TIMEOUT) -> str | None:
    """Run a system tool (found on PATH, called by absolute path); its stdout or None."""
    path = shutil.which(args[0])
    if not path:
        return None
    try:
        done = subprocess.run(  # noqa: S603  # nosec B603 - absolute path from which(), fixed args
            [path, *args[1:]],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.decode("utf-8", "replace")


def _read_text(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return None


def os_label() -> str | None:
    system = platform.system()
    if system == "Linux":
        text = _read_text(OS_RELEASE_FILE) or ""
        for line in text.splitlines():
            if line.startswith("PRETTY_NAME="):
                value = line.split("=", 1)[1].strip().strip('"').strip("'")
                if value:
                    return value
        return f"Linux {platform.release()}".strip()
    if system == "Darwin":
        version = platform.mac_ver()[0]
        return f"macOS {version}".strip()
    if system == "Windows":
        return f"Windows {platform.release()} ({platform.version()})"
    return platform.platform() or None


def cpu_label() -> str | None:
    text = _read_text("/proc/cpuinfo") or ""
    for line in text.splitlines():
        if line.lower().startswith("model name"):
            return line.split(":", 1)[1].strip() or None
    if platform.system() == "Darwin":
        out = _run_tool(["sysctl", "-n", "machdep.cpu.brand_string"])
        if out and out.strip():
            return out.strip()
    return platform.processor() or None


def amd_cards() -> list:
    """(card name, vram-used counter path) for each amdgpu card in sysfs."""
    cards = []
    try:
        names = sorted(os.listdir(DRM_ROOT))
    except OSError:
        return cards
    for name in names:
        if not re.fullmatch(r"card\d+", name):
            continue
        device = os.path.join(DRM_ROOT, name, "device")
        used = os.path.join(device, "mem_info_vram_used")
        vendor = (_read_text(os.path.join(device, "vendor")) or "").strip().lower()
        if vendor == "0x1002" and os.path.isfile(used):
            cards.append((name, used))
    return cards


def gpu_context() -> dict:
    """GPU names and count, driver and CUDA/ROCm/Metal versions, from the vendor tools."""
    gpu = {
        "vendor": None,
        "names": [],
        "count": 0,
        "memory_total_mib": [],
        "driver_version": None,
        "cuda_version": None,
        "rocm_version": None,
        "metal": None,
    }
    out = _run_tool(
        [
            "nvidia-smi",
            "--query-gpu=name,driver_version,memory.total",
            "--format=csv,noheader,nounits",
        ]
    )
    if out:
        for line in out.splitlines():
            fields = [f.strip() for f in line.split(",")]
            if len(fields) < 3 or not fields[0]:
                continue
            gpu["names"].append(fields[0])
            gpu["driver_version"] = gpu["driver_version"] or fields[1] or None
            total = _to_number(fields[2])
            if total is not None:
                gpu["memory_total_mib"].append(int(total))
        if gpu["names"]:
            gpu["vendor"] = "nvidia"
            banner = _run_tool(["nvidia-smi"]) or ""
            match = re.search(r"CUDA Version\s*:\s*([0-9][0-9.]*)", banner)
            if match:
                gpu["cuda_version"] = match.group(1)
    if not gpu["names"]:
        cards = amd_cards()
        rocm = _run_tool(["rocm-smi", "--showproductname", "--json"])
        names = _rocm_product_names(rocm)
        if cards or names:
            gpu["vendor"] = "amd"
            gpu["names"] = names or ["AMD GPU"] * len(cards)
            for name, _used in cards:
                total = _read_int(os.path.join(DRM_ROOT, name, "device", "mem_info_vram_total"))
                if total is not None:
                    gpu["memory_total_mib"].append(total // MIB)
            version = (_read_text(ROCM_VERSION_FILE) or "").strip()
            gpu["rocm_version"] = version or None
            driver = _rocm_driver_version()
            gpu["driver_version"] = driver
    if not gpu["names"] and platform.system() == "Darwin":
        out = _run_tool(["system_profiler", "SPDisplaysDataType"]) or ""
        for line in out.splitlines():
            key, _sep, value = line.strip().partition(":")
            if key == "Chipset Model" and value.strip():
                gpu["names"].append(value.strip())
            elif key in ("Metal Support", "Metal Family") and value.strip():
                gpu["metal"] = value.strip()
        if gpu["names"]:
            gpu["vendor"] = "apple"
    gpu["count"] = len(gpu["names"])
    return gpu


def _rocm_product_names(out: str | None) -> list:
    if not out:
        return []
    try:
        data = json.loads(out)
    except ValueError:
        return []
    names = []
    if isinstance(data, dict):
        for key in sorted(data):
            card = data[key]
            if not key.lower().startswith("card") or not isinstance(card, dict):
                continue
            lowered = {str(k).lower(): v for k, v in card.items()}
            for field in ("card series", "card model", "card sku", "device name"):
                value = lowered.get(field)
                if value:
                    names.append(str(value).strip())
                    break
    return names


def _rocm_driver_version() -> str | None:
    version = (_read_text("/sys/module/amdgpu/version") or "").strip()
    if version:
        return version
    out = _run_tool(["rocm-smi", "--showdriverversion", "--json"])
    if out:
        try:
            data = json.loads(out)
        except ValueError:
            return None
        if isinstance(data, dict):
            for value in data.values():
                if isinstance(value, dict):
                    for key, item in value.items():
                        if "driver version" in str(key).lower() and item:
                            return str(item).strip()
    return None


def _read_int(path: str) -> int | None:
    text = _read_text(path)
    if text is None:
        return None
    try:
        return int(text.strip())
    except ValueError:
        return None


def _to_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


# --------------------------------------------------------------------------- VRAM sampler


class VramSampler:
    """Samples GPU memory in a background thread and keeps the high-water mark (MiB).

    The peak is the highest simultaneous sum over all GPUs of this machine; per-GPU peaks are
    kept beside it. nvidia-smi runs in its own loop (one process, a reading every 100 ms); on
    AMD the driver's sysfs counters are read every 100 ms, or rocm-smi is polled.
    """

    def __init__(self) -> None:
        self.tool: str | None = None
        self.note: str | None = None
        self.peak_mib: int | None = None
        self.first_mib: int | None = None
        self.per_gpu_peak: dict = {}
        self.samples = 0
        self.max_gap_s = 0.0
        self._last_sample: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._process: subprocess.Popen | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        nvidia = shutil.which("nvidia-smi")
        if nvidia:
            self.tool = "nvidia-smi"
            try:
                self._process = subprocess.Popen(  # noqa: S603  # nosec B603 - which() path, fixed args
                    [
                        nvidia,
                        "--query-gpu=index,memory.used",
                        "--format=csv,noheader,nounits",
                        f"--loop-ms={NVIDIA_LOOP_MS}",
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                )
            except OSError as error:
                self.tool = None
                self.note = f"nvidia-smi could not be started: {_one_line(error, 120)}"
                return
            self._thread = threading.Thread(target=self._read_nvidia, name="vram", daemon=True)
        elif amd_cards():
            self.tool = "amdgpu-sysfs"
            self._thread = threading.Thread(target=self._poll_sysfs, name="vram", daemon=True)
        elif shutil.which("rocm-smi"):
            self.tool = "rocm-smi"
            self._thread = threading.Thread(target=self._poll_rocm_smi, name="vram", daemon=True)
        else:
            self.note = (
                "not measured: neither nvidia-smi nor rocm-smi (nor amdgpu sysfs counters) "
                "found on this machine"
            )
            return
        self._thread.start()

    def _record(self, readings: dict) -> None:
        if not readings:
            return
        now = time.monotonic()
        total = int(round(sum(readings.values())))
        with self._lock:
            if self._last_sample is not None:
                self.max_gap_s = max(self.max_gap_s, now - self._last_sample)
            self._last_sample = now
            self.samples += 1
            if self.first_mib is None:
                self.first_mib = total
            if self.peak_mib is None or total > self.peak_mib:
                self.peak_mib = total
            for gpu, value in readings.items():
                value = int(round(value))
                if value > self.per_gpu_peak.get(gpu, -1):
                    self.per_gpu_peak[gpu] = value

    def _read_nvidia(self) -> None:
        process = self._process
        if process is None or process.stdout is None:
            return
        group: dict = {}
        for raw in process.stdout:
            fields = raw.decode("ascii", "replace").split(",")
            if len(fields) != 2:
                continue
            gpu = fields[0].strip()
            value = _to_number(fields[1].strip())
            if value is None:
                continue
            if gpu in group:
                self._record(group)
                group = {}
            group[gpu] = value
        self._record(group)

    def _poll_sysfs(self) -> None:
        cards = amd_cards()
        while True:
            readings = {}
            for index, (_name, path) in enumerate(cards):
                used = _read_int(path)
                if used is not None:
                    readings[str(index)] = used / MIB
            self._record(readings)
            if self._stop.wait(POLL_INTERVAL):
                return

    def _poll_rocm_smi(self) -> None:
        while True:
            started = time.monotonic()
            out = _run_tool(["rocm-smi", "--showmeminfo", "vram", "--json"], timeout=5)
            self._record(_rocm_vram_readings(out))
            wait = max(0.0, ROCM_SMI_INTERVAL - (time.monotonic() - started))
            if self._stop.wait(wait):
                return

    def stop(self) -> dict:
        self._stop.set()
        if self._process is not None:
            _end_process(self._process)
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._process is not None and self._process.stdout is not None:
            self._process.stdout.close()
        if self.tool and self.samples == 0:
            self.note = f"{self.tool} gave no readings"
        peaks = [self.per_gpu_peak[k] for k in sorted(self.per_gpu_peak, key=_gpu_sort_key)]
        return {
            "peak_mib": self.peak_mib if self.samples else None,
            "per_gpu_peak_mib": peaks,
            "first_sample_mib": self.first_mib,
            "tool": self.tool,
            "samples": self.samples,
            "max_interval_ms": round(self.max_gap_s * 1000, 1) if self.samples > 1 else None,
            "scope": "sum over all GPUs of the machine the runner ran on",
            "note": self.note,
        }


def _end_process(process: subprocess.Popen) -> None:
    """Stop nvidia-smi's loop as Ctrl+C would (it then flushes what it buffered), else harder."""
    steps = []
    if os.name == "posix":
        steps.append(lambda: process.send_signal(signal.SIGINT))
    steps += [process.terminate, process.kill]
    for step in steps:
        if process.poll() is not None:
            return
        with contextlib.suppress(OSError):
            step()
        try:
            process.wait(timeout=3)
            return
        except subprocess.TimeoutExpired:
            continue
    process.wait()


def _gpu_sort_key(key: str):
    return (0, int(key)) if key.isdigit() else (1, key)


def _rocm_vram_readings(out: str | None) -> dict:
    if not out:
        return {}
    try:
        data = json.loads(out)
    except ValueError:
        return {}
    readings = {}
    if isinstance(data, dict):
        for key in sorted(data):
            card = data[key]
            if not isinstance(card, dict):
                continue
            for field, value in card.items():
                name = str(field).lower()
                if "vram" in name and "used" in name:
                    number = _to_number(str(value).strip())
                    if number is not None:
                        readings[re.sub(r"\D", "", key) or key] = number / MIB
                    break
    return readings


# --------------------------------------------------------------------------- statistics


def summarise(values: list) -> dict:
    median = statistics.median(values)
    low = min(values)
    high = max(values)
    spread = (high - low) / median if median else None
    return {
        "median": _round(median),
        "min": _round(low),
        "max": _round(high),
        "spread": round(spread, 4) if spread is not None else None,
    }


def _round(value, digits: int = 3):
    return round(value, digits) if isinstance(value, float) else value


# --------------------------------------------------------------------------- the protocol


class Progress:
    """Progress lines on stderr; an unfinished line is closed before an error is shown."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.open_line = False

    def say(self, text: str, end: str = "\n") -> None:
        self.stream.write(text + end)
        self.stream.flush()
        self.open_line = not end.endswith("\n")

    def fail(self, text: str) -> None:
        if self.open_line:
            self.say("")
        self.say(text)


def run_header(session: str, index: int) -> str:
    return f"[trustbench {session} run {index}]\n"


def negotiate_warmup(endpoint, args, model, progress) -> tuple:
    """The warm-up request; (StreamResult, extras accepted?). Retries plain if refused."""
    label = "warm-up"
    extras = True
    for attempt in (1, 2):
        body = request_body(args.api, model, WARMUP_PROMPT, WARMUP_MAX_TOKENS, args.seed, extras)
        try:
            result = stream_once(endpoint, args.api, body, args.timeout, label, require_text=False)
            return result, extras
        except HttpStatusError as error:
            if attempt == 1 and error.status in (400, 422):
                progress.say(
                    f"  the server refused the extra fields ({error.server_message}); "
                    "retrying without stream_options/ignore_eos/cache_prompt"
                )
                extras = False
                continue
            raise
    raise AssertionError("unreachable")  # pragma: no cover


def measure(args, progress: Progress) -> dict:
    endpoint = Endpoint(args.endpoint, args.api_key)
    progress.say(f"{RUNNER_NAME} {RUNNER_VERSION}: {endpoint.display} ({args.api} API)")
    models = discover_models(endpoint)
    model = args.model
    if not model:
        if not models:
            raise MeasureError(
                "the endpoint lists no model at /v1/models: pass --model NAME", EXIT_SERVER_ERROR
            )
        model = str(models[0]["id"])
        if len(models) > 1:
            progress.say(f"  {len(models)} models listed; using the first ({model}); see --model")
    model_entry = next((m for m in models if str(m.get("id")) == model), None)
    runtime = probe_runtime(endpoint, models)
    if runtime["name"]:
        progress.say(f"  runtime: {runtime['name']} {runtime['version'] or '(version unknown)'}")
    progress.say(f"  model: {model}")

    progress.say(f"warm-up ({WARMUP_MAX_TOKENS} tokens, answer discarded) ...", end=" ")
    warm, extras = negotiate_warmup(endpoint, args, model, progress)
    progress.say(f"done in {warm.t_end - warm.t0:.2f} s")

    session = uuid.uuid4().hex[:8]
    sampler = VramSampler()
    sampler.start()
    runs = []
    stopped_early = []
    try:
        for index in range(1, args.runs + 1):
            label = f"run {index}/{args.runs}"
            progress.say(f"{label} ...", end=" ")
            prompt = run_header(session, index) + PROMPT
            body = request_body(args.api, model, prompt, args.max_tokens, args.seed, extras)
            result = stream_once(endpoint, args.api, body, args.timeout, label)
            run = run_record(index, result, prompt)
            if run["decode_tps"] is None:
                raise MeasureError(
                    f"{label}: all {run['tokens_generated']} generated token(s) arrived at once "
                    "(T2 = T1), so no decode rate can be computed (did the engine stop at "
                    "end-of-sequence, or buffer its stream?)",
                    EXIT_PROTOCOL,
                )
            runs.append((run, result))
            progress.say(
                f"ttft {run['ttft_ms']:.1f} ms, {run['tokens_generated']} tokens "
                f"({run['token_count_source']}), {_fmt(run['decode_tps'], 2)} tok/s"
            )
            if run["tokens_generated"] < args.max_tokens:
                stopped_early.append(index)
    finally:
        vram = sampler.stop()

    origin = runs[0][1].t0
    records = []
    for run, result in runs:
        run["t0_s"] = round(result.t0 - origin, 6)
        run["t1_s"] = round(result.t1 - origin, 6)
        run["t2_s"] = round(result.t2 - origin, 6)
        run["t_end_s"] = round(result.t_end - origin, 6)
        records.append(run)
    if stopped_early:
        which = ", ".join(str(i) for i in stopped_early)
        progress.say(
            f"  note: run(s) {which} generated fewer than {args.max_tokens} tokens "
            "(the engine stopped at end-of-sequence)"
        )
    return build_result(args, model, model_entry, runtime, warm, extras, records, vram)


def run_record(index: int, result: StreamResult, prompt: str) -> dict:
    usage = result.usage if isinstance(result.usage, dict) else {}
    completion = usage.get("completion_tokens")
    if isinstance(completion, int) and not isinstance(completion, bool) and completion > 0:
        tokens = completion
        source = "usage"
    else:
        tokens = result.content_chunks
        source = "stream"
    prompt_tokens = usage.get("prompt_tokens")
    if not isinstance(prompt_tokens, int) or isinstance(prompt_tokens, bool):
        prompt_tokens = None
    decode_window = (result.t2 or 0.0) - (result.t1 or 0.0)
    decode = tokens / decode_window if decode_window > 0 else None
    return {
        "index": index,
        "ttft_ms": round((result.t1 - result.t0) * 1000.0, 3),
        "decode_tps": round(decode, 3) if decode is not None else None,
        "tokens_generated": tokens,
        "token_count_source": source,
        "prompt_tokens": prompt_tokens,
        "content_chunks": result.content_chunks,
        "finish_reason": result.finish_reason,
        "done_marker": result.done_marker,
        "prompt_header": prompt[: len(prompt) - len(PROMPT)],
        "engine_timings": result.engine_timings,
    }


def build_result(args, model, model_entry, runtime, warm, extras, runs, vram) -> dict:
    gpu = gpu_context()
    environment = {
        "runtime": runtime["name"],
        "runtime_version": runtime["version"],
        "runtime_source": runtime["source"],
        "gpu_vendor": gpu["vendor"],
        "gpu_name": gpu["names"][0] if gpu["names"] else None,
        "gpu_names": gpu["names"],
        "gpu_count": gpu["count"],
        "gpu_memory_total_mib": gpu["memory_total_mib"],
        "driver_version": gpu["driver_version"],
        "cuda_version": gpu["cuda_version"],
        "rocm_version": gpu["rocm_version"],
        "metal": gpu["metal"],
        "os": os_label(),
        "kernel": platform.release() or None,
        "cpu": cpu_label(),
        "python": platform.python_version(),
    }
    missing = []
    for key in ("runtime", "runtime_version", "gpu_name", "driver_version", "os"):
        if not environment[key]:
            missing.append(key)
    if gpu["vendor"] == "nvidia" and not gpu["cuda_version"]:
        missing.append("cuda_version")
    if gpu["vendor"] == "amd" and not gpu["rocm_version"]:
        missing.append("rocm_version")
    if vram["peak_mib"] is None:
        missing.append("vram_peak_mib")
    if any(run["prompt_tokens"] is None for run in runs):
        missing.append("prompt_tokens")

    sources = {run["token_count_source"] for run in runs}
    token_source = sources.pop() if len(sources) == 1 else "mixed"
    summary = {
        "ttft_ms": summarise([run["ttft_ms"] for run in runs]),
        "decode_tps": summarise([run["decode_tps"] for run in runs]),
        "tokens_generated": summarise([run["tokens_generated"] for run in runs]),
    }
    prompt_counts = [run["prompt_tokens"] for run in runs if run["prompt_tokens"] is not None]
    summary["prompt_tokens"] = summarise(prompt_counts) if prompt_counts else None
    wide = [
        name
        for name in ("ttft_ms", "decode_tps")
        if summary[name]["spread"] is not None and summary[name]["spread"] > SPREAD_NOTE_THRESHOLD
    ]
    public_model = public_model_name(model)
    model_info = {"id": public_model, "owned_by": None, "file": runtime.get("model_file")}
    if model_entry:
        model_info["owned_by"] = model_entry.get("owned_by")
    return {
        "format": RESULT_FORMAT,
        "version": RESULT_VERSION,
        "runner": RUNNER_NAME,
        "runner_version": RUNNER_VERSION,
        "runner_sha256": _own_sha256(),
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "model": public_model,
        "model_info": model_info,
        "prompt_sha256": PROMPT_SHA256,
        "prompt": {
            "chars": len(PROMPT),
            "warmup_sha256": WARMUP_SHA256,
            "run_header": "each run sends its prompt_header, then the prompt (no prefix cache hit)",
        },
        "settings": {
            "api": args.api,
            "path": api_path(args.api),
            "runs": args.runs,
            "max_tokens": args.max_tokens,
            "seed": args.seed,
            "temperature": 0,
            "stream": True,
            "concurrency": 1,
            "timeout_s": args.timeout,
            "warmup_max_tokens": WARMUP_MAX_TOKENS,
            "usage_requested": extras,
            "ignore_eos_requested": extras,
        },
        "clock": {
            "source": "time.monotonic",
            "unit": "s",
            "origin": "T0 of timed run 1",
            "t0": "request sent",
            "t1": "first generated text received",
            "t2": "last generated text received",
            "t_end": "stream complete",
        },
        "warmup": {
            "discarded": True,
            "duration_s": round(warm.t_end - warm.t0, 6),
            "ttft_ms": round((warm.t1 - warm.t0) * 1000.0, 3) if warm.t1 is not None else None,
            "content_chunks": warm.content_chunks,
        },
        "runs": runs,
        "summary": summary,
        "spread_needs_note": wide,
        "token_count_source": token_source,
        "vram": vram,
        "environment": environment,
        "missing": missing,
    }


def public_model_name(model: str) -> str:
    """The model's name as the endpoint gives it, but a file path only by its last part.

    Some servers (llama-cpp-python, vLLM started on a folder) name the model by its path on
    disk, absolute or relative to where they were started; the folders can name the operator.
    Hub names such as org/model and Ollama tags (llama3.1:8b, hf.co/org/repo:Q4_K_M) are kept
    whole: a name is cut only when it has a separator and looks like a path.
    """
    text = model.strip()
    if not MODEL_PATH_SEPARATOR.search(text):
        return text
    parts = MODEL_PATH_SEPARATOR.split(text)
    looks_like_path = (
        "\\" in text
        or text.startswith("~")
        or MODEL_PATH_DRIVE.match(text) is not None
        or any(part in ("", ".", "..") for part in parts)
        or text.lower().endswith(MODEL_FILE_EXTENSIONS)
    )
    if not looks_like_path:
        return text
    tail = [part for part in parts if part not in ("", ".", "..")]
    return tail[-1] if tail else text


def _own_sha256() -> str | None:
    try:
        with open(os.path.abspath(__file__), "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except (OSError, NameError):
        return None


def _fmt(value, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def print_table(result: dict, out) -> None:
    runs = result["runs"]
    lines = [
        f"{'run':>5} {'ttft_ms':>10} {'tokens':>7} {'decode_tok/s':>13} {'prompt_tok':>11}  source",
    ]
    for run in runs:
        prompt_tokens = "-" if run["prompt_tokens"] is None else str(run["prompt_tokens"])
        lines.append(
            f"{run['index']:>5} {run['ttft_ms']:>10.1f} {run['tokens_generated']:>7} "
            f"{run['decode_tps']:>13.2f} {prompt_tokens:>11}  {run['token_count_source']}"
        )
    summary = result["summary"]
    lines.append(
        f"{'median':>5} {summary['ttft_ms']['median']:>10.1f} "
        f"{summary['tokens_generated']['median']:>7g} {summary['decode_tps']['median']:>13.2f}"
    )
    lines.append(
        f"{'spread':>5} {_pct(summary['ttft_ms']['spread']):>10} {'':>7} "
        f"{_pct(summary['decode_tps']['spread']):>13}"
    )
    for name in result["spread_needs_note"]:
        lines.append(
            f"WARNING: the spread of {name} is {_pct(summary[name]['spread'])} (over 10%): "
            "the submission needs a note explaining why."
        )
    vram = result["vram"]
    if vram["peak_mib"] is not None:
        lines.append(
            f"VRAM peak: {vram['peak_mib']} MiB ({vram['tool']}, {vram['samples']} samples)"
        )
    else:
        lines.append(f"VRAM peak: {vram['note']}")
    env = result["environment"]
    lines.append(
        "runtime: "
        + " ".join(x for x in (env["runtime"], env["runtime_version"]) if x)
        + (f"; GPU: {env['gpu_count']} x {env['gpu_name']}" if env["gpu_name"] else "; GPU: -")
        + f"; OS: {env['os'] or '-'}"
    )
    if result["missing"]:
        lines.append("not found (fill in by hand): " + ", ".join(result["missing"]))
    lines.append(f"prompt sha256: {result['prompt_sha256']}")
    out.write("\n".join(lines) + "\n")
    out.flush()


def _pct(value) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def write_result(result: dict, path: str) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    temporary = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(result, handle, indent=2, sort_keys=False, allow_nan=False)
            handle.write("\n")
        os.replace(temporary, path)
    except (OSError, ValueError) as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise MeasureError(
            f"cannot write the result file {path}: {_describe_oserror(error)}", EXIT_OUTPUT
        ) from None


# --------------------------------------------------------------------------- command line


def _runs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not MIN_RUNS <= value <= MAX_RUNS:
        raise argparse.ArgumentTypeError(f"must be between {MIN_RUNS} and {MAX_RUNS}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 2:
        raise argparse.ArgumentTypeError("must be at least 2")
    return value


def _seed(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError("must be a positive number of seconds")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=RUNNER_NAME,
        description=(
            "Time an OpenAI-compatible streaming endpoint by the Trustbench reproduction "
            "protocol (warm-up, fixed prompt, T0/T1/T2, median and spread, VRAM peak) and "
            "write a result file to upload."
        ),
    )
    parser.add_argument(
        "--endpoint",
        required=True,
        help="server address, e.g. http://127.0.0.1:8080 (llama.cpp) or "
        "http://127.0.0.1:11434/v1 (Ollama)",
    )
    parser.add_argument("--model", help="model name to send (default: the first one listed)")
    parser.add_argument(
        "--api",
        choices=("completions", "chat"),
        default="completions",
        help="/v1/completions (default) or /v1/chat/completions",
    )
    parser.add_argument(
        "--runs", type=_runs, default=DEFAULT_RUNS, help="timed runs, 3 to 10 (default 3)"
    )
    parser.add_argument(
        "--max-tokens",
        type=_positive_int,
        default=DEFAULT_MAX_TOKENS,
        help="tokens to generate per run (default 512)",
    )
    parser.add_argument("--seed", type=_seed, default=DEFAULT_SEED, help="seed (default 42)")
    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=DEFAULT_TIMEOUT,
        help="seconds allowed for each request (default 120)",
    )
    parser.add_argument(
        "--out",
        default="trustbench-result.json",
        help="result file (default trustbench-result.json)",
    )
    parser.add_argument("--api-key", help="bearer token, if the server needs one")
    parser.add_argument("--version", action="version", version=f"{RUNNER_NAME} {RUNNER_VERSION}")
    return parser


def main(argv: list | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:
        code = stop.code
        return code if isinstance(code, int) else (0 if code is None else EXIT_USAGE)
    progress = Progress(sys.stderr)
    try:
        result = measure(args, progress)
        print_table(result, sys.stdout)
        write_result(result, args.out)
    except MeasureError as error:
        progress.fail(f"{RUNNER_NAME}: error: {_one_line(error, 400)}")
        return error.code
    except KeyboardInterrupt:
        progress.fail(f"{RUNNER_NAME}: interrupted")
        return EXIT_INTERRUPTED
    except Exception as error:  # noqa: BLE001 - the operator gets one line, never a traceback
        progress.fail(
            f"{RUNNER_NAME}: internal error: {_one_line(f'{type(error).__name__}: {error}', 300)}"
        )
        return EXIT_INTERNAL
    progress.say(f"result written to {args.out}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
