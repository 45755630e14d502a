"""Failures end with a one-line reason on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from tests.runner.loader import tm

PREFIX = "trustbench-measure: error: "


def closed_port() -> int:
    """A port nothing listens on: bound, read, and released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def assert_clean_failure(outcome, code: int, *fragments: str) -> None:
    assert outcome.code == code, (outcome.code, outcome.err)
    assert "Traceback" not in outcome.err + outcome.out
    line = outcome.last_err_line
    assert line.startswith(PREFIX), outcome.err
    for fragment in fragments:
        assert fragment in line, line
    assert outcome.result is None  # nothing half-written


def test_unreachable_endpoint(measure):
    outcome = measure("--endpoint", f"http://127.0.0.1:{closed_port()}")
    assert_clean_failure(outcome, tm.EXIT_UNREACHABLE, "endpoint unreachable", "refused")


def test_unknown_host(measure):
    outcome = measure("--endpoint", "http://no-such-host.invalid:8080", "--timeout", "5")
    assert_clean_failure(outcome, tm.EXIT_UNREACHABLE, "endpoint unreachable")


def test_a_json_answer_instead_of_a_stream(fake_engine, measure):
    engine = fake_engine(mode="json")
    outcome = measure("--endpoint", engine.url)
    assert_clean_failure(outcome, tm.EXIT_PROTOCOL, "warm-up", "not a stream")


def test_a_plain_text_answer_instead_of_a_stream(fake_engine, measure):
    engine = fake_engine(mode="text")
    outcome = measure("--endpoint", engine.url)
    assert_clean_failure(outcome, tm.EXIT_PROTOCOL, "did not answer with a stream", "starting")


@pytest.mark.parametrize(
    ("status", "body", "fragment"),
    [
        (404, {"error": {"message": "model 'llama3:8b' not found, try pulling it first"}},
         "model 'llama3:8b' not found"),
        (500, {"error": {"message": "model is not loaded"}}, "model is not loaded"),
        (503, {"detail": "Loading model"}, "Loading model"),
    ],
)  # fmt: skip
def test_an_http_error_from_the_server(fake_engine, measure, status, body, fragment):
    engine = fake_engine(mode="status", status=status, status_body=body)
    outcome = measure("--endpoint", engine.url)
    assert_clean_failure(outcome, tm.EXIT_SERVER_ERROR, f"HTTP {status}", fragment)


def test_an_error_in_the_middle_of_the_stream(fake_engine, measure):
    engine = fake_engine(mode="error_event", ttft=0.005, itl=0.002)
    outcome = measure("--endpoint", engine.url, "--max-tokens", "8")
    assert_clean_failure(outcome, tm.EXIT_SERVER_ERROR, "CUDA out of memory")


@pytest.mark.parametrize(
    ("mode", "fragment"),
    [("not_json", "not JSON: {'text': 'single quotes'}"), ("bad_shape", "unexpected shape")],
)
def test_a_broken_event_in_the_stream(fake_engine, measure, mode, fragment):
    engine = fake_engine(mode=mode, ttft=0.005, itl=0.002)
    outcome = measure("--endpoint", engine.url, "--max-tokens", "8")
    assert_clean_failure(outcome, tm.EXIT_PROTOCOL, fragment)


def test_a_stream_without_generated_text(fake_engine, measure):
    engine = fake_engine(mode="empty", ttft=0.005, itl=0.002)
    outcome = measure("--endpoint", engine.url, "--max-tokens", "8")
    assert_clean_failure(outcome, tm.EXIT_PROTOCOL, "run 1/3", "without any generated text")


def test_a_run_that_times_out(fake_engine, measure):
    engine = fake_engine(mode="stall")
    outcome = measure("--endpoint", engine.url, "--timeout", "0.5")
    assert_clean_failure(outcome, tm.EXIT_TIMEOUT, "timed out after 0.5 s")


def test_a_slow_stream_times_out_as_a_whole(fake_engine, measure):
    # Each token comes in time, but the whole run takes longer than --timeout.
    engine = fake_engine(ttft=0.01, itl=0.05, warmup_itl=0.0005)
    outcome = measure("--endpoint", engine.url, "--max-tokens", "100", "--timeout", "1")
    assert_clean_failure(outcome, tm.EXIT_TIMEOUT, "run 1/3 timed out after 1 s")


def test_no_model_listed_and_none_given(fake_engine, measure):
    engine = fake_engine(models=[])
    outcome = measure("--endpoint", engine.url)
    assert_clean_failure(outcome, tm.EXIT_SERVER_ERROR, "--model")


def test_a_result_file_that_cannot_be_written(fake_engine, measure, tmp_path):
    engine = fake_engine(ttft=0.005, itl=0.002)
    outcome = measure(
        "--endpoint", engine.url, "--max-tokens", "8", out=tmp_path / "no-such-dir" / "r.json"
    )
    assert outcome.code == tm.EXIT_OUTPUT
    assert outcome.last_err_line.startswith(PREFIX + "cannot write the result file")
    assert "Traceback" not in outcome.err


@pytest.mark.parametrize(
    "argv",
    [
        ["--endpoint", "http://127.0.0.1:1", "--runs", "2"],
        ["--endpoint", "http://127.0.0.1:1", "--runs", "11"],
        ["--endpoint", "http://127.0.0.1:1", "--max-tokens", "0"],
        ["--endpoint", "http://127.0.0.1:1", "--timeout", "-1"],
        ["--endpoint", "ftp://127.0.0.1:1"],
        ["--endpoint", "http://127.0.0.1:1", "--api", "embeddings"],
        [],
    ],
)
def test_bad_arguments(measure, argv):
    outcome = measure(*argv)
    assert outcome.code == tm.EXIT_USAGE
    assert "Traceback" not in outcome.err
    assert outcome.result is None


def test_the_command_fails_in_one_line_as_a_process(tmp_path):
    """Run as an operator would: `python3 measure.py ...` against nothing."""
    runner = tm.__file__
    done = subprocess.run(
        [sys.executable, runner, "--endpoint", f"http://127.0.0.1:{closed_port()}"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == tm.EXIT_UNREACHABLE
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith(PREFIX + "endpoint unreachable")
    assert done.stdout == ""
    assert not (tmp_path / "trustbench-result.json").exists()
