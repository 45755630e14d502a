"""The runner as this site serves it: trustbench_measure.py's bytes, sha256 and version,
read once per process, and the two commands that download and run it for a row.

The file is found with `importlib.util.find_spec` (installed as a top-level module by
`pip install .`, or on the path when the app runs from the repository), which locates it
without importing it: the app never runs the runner's code. Pure apart from reading that
file; commands take the download address as a parameter, so no Flask is imported.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from webapp.models import Submission
from webapp.services.rules import MAX_RUNS, MIN_RUNS

MODULE = "trustbench_measure"
FILENAME = "trustbench_measure.py"
# What the runner does when no option is given (trustbench_measure.py's defaults).
RUNNER_RUNS = 3
# The runner sends one fixed prompt of about this many tokens; each engine counts it
# exactly (and the result records that count).
RUNNER_PROMPT_TOKENS = 500
# A row whose prompt differs from the runner's by more than this gets a note.
PROMPT_LENGTH_TOLERANCE = 0.10
_VERSION = re.compile(rb'^RUNNER_VERSION = "([^"\n]{1,20})"', re.MULTILINE)

# The address each engine serves on by default, by runtime slug; llama.cpp's otherwise.
DEFAULT_ENDPOINT = "http://127.0.0.1:8080"
ENDPOINTS = {
    "ollama": "http://127.0.0.1:11434",
    "koboldcpp": "http://127.0.0.1:5001",
    "lm-studio-gguf": "http://127.0.0.1:1234",
    "lm-studio-mlx": "http://127.0.0.1:1234",
    "vllm": "http://127.0.0.1:8000",
    "sglang": "http://127.0.0.1:30000",
    "tensorrt-llm": "http://127.0.0.1:8000",
    "mlc-llm": "http://127.0.0.1:8000",
    "exllamav2": "http://127.0.0.1:5000",
}


@dataclass(frozen=True)
class RunnerFile:
    data: bytes
    sha256: str
    version: str | None

    @property
    def etag(self) -> str:
        return self.sha256


@functools.cache
def served() -> RunnerFile | None:
    """The runner file, read once and kept; None when it cannot be found."""
    spec = importlib.util.find_spec(MODULE)
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    data = Path(spec.origin).read_bytes()
    version = _VERSION.search(data)
    return RunnerFile(
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        version=version.group(1).decode("ascii", "replace") if version else None,
    )


@dataclass(frozen=True)
class Commands:
    """The two commands an operator copies: download the runner, run it."""

    download: str
    run: str
    endpoint: str  # the usual address of the row's engine (llama.cpp's without a row)
    engine: str | None  # the row's runtime, by name
    notes: tuple[str, ...]

    @property
    def text(self) -> str:
        return f"{self.download}\n{self.run}"


def download_command(url: str) -> str:
    return shlex.join(["curl", "-fLo", FILENAME, url])


def commands(download_url: str, row: Submission | None = None) -> Commands:
    """The download and the run, with the row's max tokens, seed and number of runs when
    it gives them (the runner's defaults otherwise, which the guide's protocol names)."""
    endpoint = ENDPOINTS.get(row.runtime.slug, DEFAULT_ENDPOINT) if row else DEFAULT_ENDPOINT
    argv = ["python3", FILENAME, "--endpoint", endpoint]
    notes: list[str] = []
    if row is not None:
        if row.max_tokens:
            argv += ["--max-tokens", str(row.max_tokens)]
        if row.seed is not None:
            argv += ["--seed", str(row.seed)]
        else:
            notes.append("This row did not record its seed: the runner's default is used.")
        runs = len(row.runs)
        if runs != RUNNER_RUNS and MIN_RUNS <= runs <= MAX_RUNS:
            argv += ["--runs", str(runs)]
        notes.extend(_prompt_note(row.prompt_tokens))
    return Commands(download=download_command(download_url), run=shlex.join(argv),
                    endpoint=endpoint, engine=row.runtime.name if row else None,
                    notes=tuple(notes))


def _prompt_note(prompt_tokens: int | None) -> list[str]:
    if not prompt_tokens:
        return ["This row did not record its prompt length; the runner's prompt is about "
                f"{RUNNER_PROMPT_TOKENS} tokens."]
    gap = abs(prompt_tokens - RUNNER_PROMPT_TOKENS) / RUNNER_PROMPT_TOKENS
    if gap <= PROMPT_LENGTH_TOLERANCE:
        return []
    return [f"This row was measured with a {prompt_tokens}-token prompt; the runner always "
            f"sends its own prompt of about {RUNNER_PROMPT_TOKENS} tokens, so its time to "
            "first token will not compare one to one."]
