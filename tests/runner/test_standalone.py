"""The runner is one file: standard library only, Python 3.9, cheap per token."""

from __future__ import annotations

import ast
import glob
import http.client
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.runner.loader import tm

RUNNER = Path(tm.__file__)


def test_only_the_standard_library_and_python_39_syntax():
    source = RUNNER.read_text(encoding="utf-8")
    tree = ast.parse(source, feature_version=(3, 9))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports: the file is copied alone"
            imported.add(node.module.split(".")[0])
        elif isinstance(node, ast.Match):
            pytest.fail("match statements need Python 3.10")
    assert imported - set(sys.stdlib_module_names) - {"__future__"} == set()
    # `X | Y` only inside annotations (postponed by `from __future__ import annotations`)
    assert "from __future__ import annotations" in source


def _python39() -> str | None:
    candidates = [shutil.which("python3.9")]
    candidates += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.9*/bin/python3")))
    for candidate in candidates:
        if not candidate:
            continue
        try:
            done = subprocess.run(
                [candidate, "-c", "import sys; sys.exit(sys.version_info[:2] != (3, 9))"],
                capture_output=True,
                timeout=30,
            )
        except OSError:
            continue
        if done.returncode == 0:
            return candidate
    return None


@pytest.mark.parametrize("interpreter", ["current", "python3.9"])
def test_the_file_copied_alone_measures(fake_engine, tmp_path, interpreter):
    """`python3 measure.py ...` in an empty folder, as on an inference box."""
    python = sys.executable if interpreter == "current" else _python39()
    if python is None:
        pytest.skip("no Python 3.9 interpreter on this machine")
    box = tmp_path / "box"
    box.mkdir()
    shutil.copy(RUNNER, box / "measure.py")
    engine = fake_engine(ttft=0.02, itl=0.002, usage=True)
    env = {"PATH": str(box), "LANG": "C"}
    done = subprocess.run(
        [python, "measure.py", "--endpoint", engine.url, "--max-tokens", "16", "--runs", "3"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=box,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    result = json.loads((box / "trustbench-result.json").read_text(encoding="utf-8"))
    assert result["format"] == "trustbench-result" and result["version"] == 1
    assert len(result["runs"]) == 3
    assert all(run["tokens_generated"] == 16 for run in result["runs"])
    assert result["prompt_sha256"] == tm.PROMPT_SHA256
    assert result["runner_sha256"] == tm._own_sha256()
    assert "median" in done.stdout


class _CannedSocket:
    """Enough of a socket for http.client.HTTPResponse to read a canned answer."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def makefile(self, mode, *args, **kwargs):
        return io.BufferedReader(io.BytesIO(self._data))


def _chunked_sse(tokens: int) -> bytes:
    """A vLLM-shaped streamed answer in chunked transfer encoding, one event per token."""
    parts = [
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    ]
    for i in range(tokens):
        event = {
            "id": "cmpl-5d2c6a1e9f3b4f0e8a7c",
            "object": "text_completion",
            "created": 1730000000,
            "model": "meta-llama/Llama-3.1-8B-Instruct",
            "choices": [{"index": 0, "text": f" word{i}", "logprobs": None, "finish_reason": None}],
        }
        data = b"data: " + json.dumps(event).encode() + b"\n\n"
        parts.append(b"%x\r\n%s\r\n" % (len(data), data))
    tail = b"data: [DONE]\n\n"
    parts.append(b"%x\r\n%s\r\n0\r\n\r\n" % (len(tail), tail))
    return b"".join(parts)


def stream_cpu_seconds(tokens: int, repeat: int = 3) -> float:
    """The least CPU time, over `repeat` reads, to read, de-chunk and parse a streamed
    answer of `tokens` events (bench/runner_overhead.py reports it per token)."""
    canned = _chunked_sse(tokens)
    best = float("inf")
    with socket.socket() as sock:  # a real socket object: settimeout() per line is included
        for _ in range(repeat):
            response = http.client.HTTPResponse(_CannedSocket(canned))
            response.begin()
            result = tm.StreamResult()
            started = time.thread_time()  # CPU time: other processes on the box do not count
            tm.consume_stream(response.read1, False, result, time.monotonic() + 600, sock)
            best = min(best, time.thread_time() - started)
            response.close()
            assert result.content_chunks == tokens and result.done_marker
    return best


def test_a_long_chunked_stream_is_read_whole():
    """Every event of a long vLLM-shaped stream is counted, and the end marker seen."""
    assert stream_cpu_seconds(2_000, repeat=1) >= 0


def test_the_package_installs_it_as_a_command():
    import tomllib

    pyproject = tomllib.loads((RUNNER.parent / "pyproject.toml").read_text(encoding="utf-8"))
    target = pyproject["project"]["scripts"]["trustbench-measure"]
    module, _, function = target.partition(":")
    assert RUNNER.parent.joinpath(*module.split(".")).with_suffix(".py") == RUNNER
    assert function == "main" and callable(getattr(tm, function))
    assert module in pyproject["tool"]["setuptools"]["py-modules"]  # setuptools ships it
