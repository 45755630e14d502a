"""The runner against a fake engine that serves tokens at programmed delays.

The fake engine writes token i at request arrival + ttft + i * itl. The runner must report
TTFT = T1 - T0 and decode = tokens / (T2 - T1) within 5% of those programmed values.
"""

from __future__ import annotations

import hashlib
import json
import re

import pytest

from tests.runner.loader import tm

TTFT = 0.200  # seconds to the first token
ITL = 0.020  # seconds between tokens: 50 tok/s
TOKENS = 48
ATTEMPTS = 3


def fast(**config):
    """Settings for tests that are not about timing: a quick stream."""
    return {"ttft": 0.005, "itl": 0.002, **config}


@pytest.mark.parametrize(
    ("api", "engine_config"),
    [
        pytest.param("completions", {}, id="completions-chunked"),
        pytest.param("chat", {"headers_with_first_token": True}, id="chat-headers-late"),
        pytest.param("completions", {"chunked": False}, id="completions-http10"),
    ],
)
def test_ttft_and_decode_match_the_programmed_delays(
    fake_engine, measure, tmp_path, api, engine_config
):
    engine = fake_engine(ttft=TTFT, itl=ITL, **engine_config)
    # On a shared, busy machine the scheduler alone can delay a wake-up by 10 ms; a fault of
    # the runner shows in every attempt, a busy neighbour in one. Up to three attempts.
    for attempt in range(1, ATTEMPTS + 1):
        outcome = measure(
            "--endpoint", engine.url, "--api", api, "--max-tokens", str(TOKENS), "--runs", "5",
            out=tmp_path / f"attempt-{attempt}.json",
        )  # fmt: skip
        assert outcome.code == 0, outcome.err
        result = outcome.result
        assert len(result["runs"]) == 5
        for run in result["runs"]:
            assert run["tokens_generated"] == TOKENS
            assert run["token_count_source"] == "stream"
            # the first token cannot arrive before the server sends it
            assert run["ttft_ms"] >= TTFT * 1000
            # decode is tokens over T2 - T1, from the recorded raw timestamps ...
            window = run["t2_s"] - run["t1_s"]
            assert run["decode_tps"] == pytest.approx(TOKENS / window, rel=1e-3)
            # ... and not over T2 - T0, which is at least 15% off the programmed rate here
            over_t0 = TOKENS / (run["t2_s"] - run["t0_s"])
            assert abs(over_t0 * ITL - 1) > 0.15
            assert run["t0_s"] < run["t1_s"] < run["t2_s"] <= run["t_end_s"]
        ttft = result["summary"]["ttft_ms"]["median"]
        decode = result["summary"]["decode_tps"]["median"]
        if ttft == pytest.approx(TTFT * 1000, rel=0.05) and decode == pytest.approx(
            1 / ITL, rel=0.05
        ):
            break
    # the numbers the runner reports (medians) are within 5% of the programmed ones
    assert ttft == pytest.approx(TTFT * 1000, rel=0.05)
    assert decode == pytest.approx(1 / ITL, rel=0.05)


def test_tokens_come_from_the_usage_report_when_the_server_gives_one(fake_engine, measure):
    # Two tokens per streamed chunk: only the usage report knows the true count.
    engine = fake_engine(**fast(usage=True, tokens_per_chunk=2, prompt_tokens=531))
    outcome = measure("--endpoint", engine.url, "--max-tokens", "40")
    assert outcome.code == 0, outcome.err
    for run in outcome.result["runs"]:
        assert run["token_count_source"] == "usage"
        assert run["tokens_generated"] == 40
        assert run["content_chunks"] == 20
        assert run["prompt_tokens"] == 531
        assert run["decode_tps"] == pytest.approx(40 / (run["t2_s"] - run["t1_s"]), rel=1e-3)
    assert outcome.result["token_count_source"] == "usage"
    assert outcome.result["summary"]["prompt_tokens"]["median"] == 531
    assert "prompt_tokens" not in outcome.result["missing"]


def test_without_a_usage_report_tokens_are_counted_from_the_stream(fake_engine, measure):
    engine = fake_engine(**fast(usage=False, tokens_per_chunk=2))
    outcome = measure("--endpoint", engine.url, "--max-tokens", "40")
    assert outcome.code == 0, outcome.err
    for run in outcome.result["runs"]:
        assert run["token_count_source"] == "stream"
        assert run["tokens_generated"] == 20
        assert run["prompt_tokens"] is None
    assert outcome.result["token_count_source"] == "stream"
    assert "prompt_tokens" in outcome.result["missing"]


def test_the_requests_follow_the_protocol(fake_engine, measure):
    engine = fake_engine(**fast())
    outcome = measure(
        "--endpoint", engine.url + "/v1/", "--runs", "4", "--max-tokens", "24", "--seed", "7"
    )
    assert outcome.code == 0, outcome.err
    posts = engine.posts()
    assert len(posts) == 5  # one warm-up, four timed runs
    warmup, timed = posts[0], posts[1:]
    assert warmup["warmup"] and tm.WARMUP_PROMPT in warmup["body"]["prompt"]
    assert warmup["body"]["max_tokens"] == tm.WARMUP_MAX_TOKENS
    headers = set()
    for post in timed:
        body = post["body"]
        assert post["path"] == "/v1/completions"
        assert body["prompt"].endswith(tm.PROMPT)
        headers.add(body["prompt"][: -len(tm.PROMPT)])
        assert body["model"] == "fake-model-7b"
        assert body["max_tokens"] == 24
        assert body["seed"] == 7
        assert body["temperature"] == 0
        assert body["stream"] is True
        assert body["stream_options"] == {"include_usage": True}
        assert body["ignore_eos"] is True
    # a fresh prompt each run: no engine can answer from its prefix cache
    assert len(headers) == 4
    assert all(re.fullmatch(r"\[trustbench [0-9a-f]{8} run \d\]\n", h) for h in headers)
    assert outcome.result["settings"]["ignore_eos_requested"] is True
    # the result says what each run sent: its header, then the fixed prompt
    for run, post in zip(outcome.result["runs"], timed, strict=True):
        assert run["prompt_header"] + tm.PROMPT == post["body"]["prompt"]


def test_chat_api_sends_messages_and_skips_the_role_chunk(fake_engine, measure):
    engine = fake_engine(**fast(usage=True))
    outcome = measure("--endpoint", engine.url, "--api", "chat", "--max-tokens", "16")
    assert outcome.code == 0, outcome.err
    timed = engine.posts()[1:]
    assert {p["path"] for p in timed} == {"/v1/chat/completions"}
    for post in timed:
        (message,) = post["body"]["messages"]
        assert message["role"] == "user" and message["content"].endswith(tm.PROMPT)
    for run in outcome.result["runs"]:
        assert run["content_chunks"] == 16  # the empty role chunk is not a token
        assert run["tokens_generated"] == 16
    assert outcome.result["settings"]["api"] == "chat"
    assert outcome.result["settings"]["path"] == "/v1/chat/completions"


def test_the_warmup_is_discarded(fake_engine, measure):
    # A slow warm-up (first load) must not leak into the timed runs.
    engine = fake_engine(ttft=0.03, itl=0.002, warmup_ttft=0.6, warmup_itl=0.002)
    outcome = measure("--endpoint", engine.url, "--max-tokens", "16")
    assert outcome.code == 0, outcome.err
    result = outcome.result
    assert engine.posts()[0]["warmup"]
    assert [run["index"] for run in result["runs"]] == [1, 2, 3]
    assert all(run["ttft_ms"] < 300 for run in result["runs"])
    assert result["summary"]["ttft_ms"]["max"] < 300
    assert result["warmup"]["discarded"] is True
    assert result["warmup"]["ttft_ms"] == pytest.approx(600, rel=0.1)
    assert "warm-up" in outcome.err


def test_result_file_is_a_versioned_document(fake_engine, measure, tmp_path):
    engine = fake_engine(**fast(usage=True))
    out = tmp_path / "sub-result.json"
    outcome = measure("--endpoint", engine.url, "--max-tokens", "12", out=out)
    assert outcome.code == 0, outcome.err
    result = json.loads(out.read_text(encoding="utf-8"))
    assert set(result) == {
        "format", "version", "runner", "runner_version", "runner_sha256", "created_at",
        "model", "model_info", "prompt_sha256", "prompt", "settings", "clock", "warmup",
        "runs", "summary", "spread_needs_note", "token_count_source", "vram", "environment",
        "missing",
    }  # fmt: skip
    assert set(result["runs"][0]) == {
        "index", "ttft_ms", "decode_tps", "tokens_generated", "token_count_source",
        "prompt_tokens", "content_chunks", "finish_reason", "done_marker", "prompt_header",
        "engine_timings", "t0_s", "t1_s", "t2_s", "t_end_s",
    }  # fmt: skip
    assert result["format"] == "trustbench-result"
    assert result["version"] == 1
    assert result["runner"] == "trustbench-measure"
    assert result["runner_version"] == "1.0"
    assert re.fullmatch(r"[0-9a-f]{64}", result["runner_sha256"])
    expected = hashlib.sha256(tm.PROMPT.encode("utf-8")).hexdigest()
    assert result["prompt_sha256"] == expected == tm.PROMPT_SHA256
    assert result["model"] == "fake-model-7b"
    assert result["settings"] == {
        "api": "completions",
        "path": "/v1/completions",
        "runs": 3,
        "max_tokens": 12,
        "seed": 42,
        "temperature": 0,
        "stream": True,
        "concurrency": 1,
        "timeout_s": 120.0,
        "warmup_max_tokens": tm.WARMUP_MAX_TOKENS,
        "usage_requested": True,
        "ignore_eos_requested": True,
    }
    assert result["clock"]["origin"] == "T0 of timed run 1"
    runs = result["runs"]
    assert runs[0]["t0_s"] == 0
    for earlier, later in zip(runs, runs[1:]):
        assert earlier["t_end_s"] <= later["t0_s"]
    for run in runs:
        for key in ("t0_s", "t1_s", "t2_s", "t_end_s", "ttft_ms", "decode_tps"):
            assert isinstance(run[key], float | int) and run[key] >= 0
        assert run["finish_reason"] == "length"
        assert run["done_marker"] is True
    for metric in ("ttft_ms", "decode_tps", "tokens_generated"):
        assert set(result["summary"][metric]) == {"median", "min", "max", "spread"}
    # nothing identifying: no address, no port, no key
    text = out.read_text(encoding="utf-8")
    assert "127.0.0.1" not in text and str(engine.port) not in text.replace(
        result["runner_sha256"], ""
    ).replace(result["prompt_sha256"], "")
    # the table on stdout
    assert "median" in outcome.out and "spread" in outcome.out
    assert expected in outcome.out
    assert f"result written to {out}" in outcome.err


def test_api_key_is_sent_and_never_written(fake_engine, measure, tmp_path):
    engine = fake_engine(**fast())
    outcome = measure("--endpoint", engine.url, "--max-tokens", "8", "--api-key", "sk-secret-1")
    assert outcome.code == 0, outcome.err
    assert "sk-secret-1" not in json.dumps(outcome.result)
    assert "sk-secret-1" not in outcome.out + outcome.err


def test_a_server_that_refuses_the_extra_fields_gets_the_plain_request(fake_engine, measure):
    engine = fake_engine(**fast(reject_extras=True))
    outcome = measure("--endpoint", engine.url, "--max-tokens", "8")
    assert outcome.code == 0, outcome.err
    timed = engine.posts()[2:]  # refused warm-up, plain warm-up, then the runs
    assert len(timed) == 3
    assert all("ignore_eos" not in p["body"] for p in timed)
    assert outcome.result["settings"]["ignore_eos_requested"] is False
    assert "retrying without" in outcome.err


def test_a_wide_spread_is_flagged(fake_engine, measure):
    engine = fake_engine(ttft_by_run=[0.05, 0.05, 0.1], itl=0.002)
    outcome = measure("--endpoint", engine.url, "--max-tokens", "8")
    assert outcome.code == 0, outcome.err
    assert outcome.result["summary"]["ttft_ms"]["spread"] > 0.5
    assert "ttft_ms" in outcome.result["spread_needs_note"]
    assert "WARNING: the spread of ttft_ms" in outcome.out


def test_the_model_is_taken_from_the_list_or_from_the_option(fake_engine, measure):
    models = [
        {"id": "first-model", "owned_by": "vllm"},
        {"id": "second-model", "owned_by": "vllm"},
    ]
    engine = fake_engine(**fast(models=models))
    outcome = measure("--endpoint", engine.url, "--max-tokens", "8")
    assert outcome.code == 0, outcome.err
    assert outcome.result["model"] == "first-model"
    assert "2 models listed" in outcome.err
    outcome = measure("--endpoint", engine.url, "--max-tokens", "8", "--model", "second-model")
    assert outcome.code == 0, outcome.err
    assert outcome.result["model"] == "second-model"
    assert engine.posts()[-1]["body"]["model"] == "second-model"
    # vLLM names itself in /v1/models even when no version endpoint answers
    assert outcome.result["environment"]["runtime"] == "vllm"


@pytest.mark.parametrize(
    ("routes", "name", "version"),
    [
        ({"/props": {"build_info": "b4500-1a2b3c4", "model_path": "/home/a/x-Q4_K_M.gguf"}},
         "llama.cpp", "b4500-1a2b3c4"),
        ({"/api/version": {"version": "0.5.7"}}, "ollama", "0.5.7"),
        ({"/version": {"version": "0.6.3.post1"}}, "vllm", "0.6.3.post1"),
        ({"/info": {"model_id": "m", "version": "2.4.0"}}, "tgi", "2.4.0"),
        ({"/openapi.json": {"info": {"title": "🦙 llama.cpp Python API", "version": "0.3.16"}}},
         "llama-cpp-python", "0.3.16"),
    ],
)  # fmt: skip
def test_the_runtime_is_read_from_the_engine(fake_engine, measure, routes, name, version):
    engine = fake_engine(**fast(routes=routes))
    outcome = measure("--endpoint", engine.url, "--max-tokens", "8")
    assert outcome.code == 0, outcome.err
    environment = outcome.result["environment"]
    assert (environment["runtime"], environment["runtime_version"]) == (name, version)
    assert "runtime_version" not in outcome.result["missing"]
    if name == "llama.cpp":
        # the file name helps match the quant; the folder it lives in is not written
        assert outcome.result["model_info"]["file"] == "x-Q4_K_M.gguf"
        assert "/home/a" not in json.dumps(outcome.result)


def test_what_cannot_be_found_is_listed_as_missing(fake_engine, measure):
    engine = fake_engine(**fast())
    outcome = measure("--endpoint", engine.url, "--max-tokens", "8")
    assert outcome.code == 0, outcome.err
    result = outcome.result
    assert result["vram"]["peak_mib"] is None
    assert "neither nvidia-smi nor rocm-smi" in result["vram"]["note"]
    assert "VRAM peak: not measured" in outcome.out
    for key in ("runtime", "runtime_version", "gpu_name", "driver_version", "vram_peak_mib"):
        assert key in result["missing"]
    assert result["environment"]["gpu_count"] == 0
    assert result["environment"]["os"]  # the OS label is always found on Linux


def test_an_engine_that_stops_at_end_of_sequence_is_noted(fake_engine, measure):
    engine = fake_engine(**fast(stop_after=5))
    outcome = measure("--endpoint", engine.url, "--max-tokens", "8")
    assert outcome.code == 0, outcome.err
    assert "generated fewer than 8 tokens" in outcome.err
    for run in outcome.result["runs"]:
        assert run["tokens_generated"] == 5
        assert run["finish_reason"] == "stop"


@pytest.mark.parametrize(
    ("name", "public"),
    [
        ("meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-8B-Instruct"),
        ("llama3.1:8b-instruct-q4_K_M", "llama3.1:8b-instruct-q4_K_M"),
        ("/home/alice/models/Qwen2.5-7B-Q4_K_M.gguf", "Qwen2.5-7B-Q4_K_M.gguf"),
        ("/srv/vllm/llama-3.1-8b/", "llama-3.1-8b"),
        ("~/m/x.gguf", "x.gguf"),
        ("C:\\Users\\bob\\x-Q8_0.gguf", "x-Q8_0.gguf"),
        ("../../home/alice/models/Llama-3.1-8B-Q4_K_M.gguf", "Llama-3.1-8B-Q4_K_M.gguf"),
        ("./models/alice-llama/", "alice-llama"),
        ("models/alice/x.safetensors", "x.safetensors"),
        ("alice\\models\\x-Q8_0", "x-Q8_0"),
        ("hf.co/bartowski/Qwen2.5-7B-GGUF:Q4_K_M", "hf.co/bartowski/Qwen2.5-7B-GGUF:Q4_K_M"),
        ("TheBloke/Llama-2-7B-GGUF", "TheBloke/Llama-2-7B-GGUF"),
    ],
)
def test_a_model_named_by_its_path_is_written_by_its_file_name(fake_engine, measure, name, public):
    assert tm.public_model_name(name) == public
    engine = fake_engine(**fast(models=[{"id": name, "owned_by": "me"}]))
    outcome = measure("--endpoint", engine.url, "--max-tokens", "8")
    assert outcome.code == 0, outcome.err
    assert outcome.result["model"] == outcome.result["model_info"]["id"] == public
    assert engine.posts()[-1]["body"]["model"] == name  # the server still gets its own name
