"""The runner against llama.cpp's real server (llama-cpp-python), serving a model written here.

The model is a two-layer llama with random weights and a byte vocabulary (259 tokens), about
0.5 MB of f32 tensors, written with the gguf package. It produces nonsense fast, which is all
a timing test needs. Only lower-case letters and the space can win the greedy pick (the other
rows of the output matrix are zero), so every token decodes to printable text and
end-of-sequence never comes.

Needs the engine extra: pip install -e '.[engine]'. Without it the test skips, unless
TRUSTBENCH_REQUIRE_ENGINE=1 (CI), where it fails.
"""

from __future__ import annotations

import http.client
import importlib.util
import json
import os
import socket
import subprocess
import sys
import time

import pytest

from tests.runner.loader import tm

pytestmark = pytest.mark.slow

N_VOCAB = 3 + 256  # <unk>, <s>, </s>, then one token per byte
N_EMBD = 64
N_HEAD = 4
N_HEAD_KV = 2
HEAD_DIM = N_EMBD // N_HEAD
N_FF = 128
N_LAYER = 2
N_CTX = 4096  # the timed prompt is ~3,100 byte tokens
MAX_TOKENS = 32
SERVER_START_TIMEOUT = 120.0


def require_engine(find_spec=importlib.util.find_spec) -> None:
    modules = ("llama_cpp", "gguf", "numpy", "uvicorn", "fastapi", "sse_starlette")
    missing = [name for name in modules if find_spec(name) is None]
    if missing:
        reason = (
            f"the real-engine test needs {', '.join(missing)}: "
            "pip install -e '.[engine]' (llama-cpp-python[server], gguf)"
        )
        if os.environ.get("TRUSTBENCH_REQUIRE_ENGINE") == "1":
            pytest.fail(f"TRUSTBENCH_REQUIRE_ENGINE=1 but {reason}")
        pytest.skip(reason)


def write_tiny_llama(path) -> None:
    """A valid llama GGUF that llama.cpp loads: byte-level SentencePiece vocab, f32 tensors."""
    import gguf
    import numpy as np

    rng = np.random.default_rng(20261101)

    def random(*shape: int, scale: float = 0.08):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("trustbench-tiny-random-llama")
    writer.add_context_length(N_CTX)
    writer.add_embedding_length(N_EMBD)
    writer.add_block_count(N_LAYER)
    writer.add_feed_forward_length(N_FF)
    writer.add_head_count(N_HEAD)
    writer.add_head_count_kv(N_HEAD_KV)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_dimension_count(HEAD_DIM)
    writer.add_rope_freq_base(10000.0)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)

    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{byte:02X}>" for byte in range(256)]
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
    types += [gguf.TokenType.BYTE] * 256
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores([0.0] * N_VOCAB)
    writer.add_token_types(types)
    writer.add_unk_token_id(0)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)

    # numpy shapes are (rows, columns); GGUF stores them reversed, as llama.cpp expects
    writer.add_tensor("token_embd.weight", random(N_VOCAB, N_EMBD, scale=1.0))
    for block in range(N_LAYER):
        prefix = f"blk.{block}"
        writer.add_tensor(f"{prefix}.attn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        writer.add_tensor(f"{prefix}.attn_q.weight", random(N_HEAD * HEAD_DIM, N_EMBD))
        writer.add_tensor(f"{prefix}.attn_k.weight", random(N_HEAD_KV * HEAD_DIM, N_EMBD))
        writer.add_tensor(f"{prefix}.attn_v.weight", random(N_HEAD_KV * HEAD_DIM, N_EMBD))
        writer.add_tensor(f"{prefix}.attn_output.weight", random(N_EMBD, N_HEAD * HEAD_DIM))
        writer.add_tensor(f"{prefix}.ffn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        writer.add_tensor(f"{prefix}.ffn_gate.weight", random(N_FF, N_EMBD))
        writer.add_tensor(f"{prefix}.ffn_up.weight", random(N_FF, N_EMBD))
        writer.add_tensor(f"{prefix}.ffn_down.weight", random(N_EMBD, N_FF))
    writer.add_tensor("output_norm.weight", np.ones(N_EMBD, dtype=np.float32))
    output = np.zeros((N_VOCAB, N_EMBD), dtype=np.float32)
    printable = [3 + byte for byte in b" abcdefghijklmnopqrstuvwxyz"]
    output[printable] = random(len(printable), N_EMBD, scale=1.0)
    writer.add_tensor("output.weight", output)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _models_answer(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/v1/models")
        response = conn.getresponse()
        response.read()
        return response.status == 200
    except OSError:
        return False
    finally:
        conn.close()


def _tail(path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    """llama-cpp-python's OpenAI-compatible server on a free port, serving the tiny model."""
    require_engine()
    folder = tmp_path_factory.mktemp("llama")
    model = folder / "tiny-random-llama-f32.gguf"
    write_tiny_llama(model)
    assert model.stat().st_size < 1024 * 1024
    port = free_port()
    log_path = folder / "server.log"
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        str(N_CTX),
        "--n_threads",
        "2",
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=folder)
        try:
            deadline = time.monotonic() + SERVER_START_TIMEOUT
            while not _models_answer(port):
                if process.poll() is not None:
                    pytest.fail(
                        f"llama_cpp.server exited with {process.returncode}:\n{_tail(log_path)}"
                    )
                if time.monotonic() > deadline:
                    pytest.fail(f"llama_cpp.server did not answer in time:\n{_tail(log_path)}")
                time.sleep(0.2)
            yield {"url": f"http://127.0.0.1:{port}", "log": log_path, "model": model}
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.mark.parametrize("api", ["completions", "chat"])
def test_the_runner_measures_llama_cpp_server(llama_server, tmp_path, capsys, api):
    out = tmp_path / "result.json"
    code = tm.main(
        [
            "--endpoint",
            llama_server["url"],
            "--api",
            api,
            "--runs",
            "3",
            "--max-tokens",
            str(MAX_TOKENS),
            "--timeout",
            "120",
            "--out",
            str(out),
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, f"{captured.err}\n--- server log ---\n{_tail(llama_server['log'])}"
    assert "Traceback" not in captured.err
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["format"] == "trustbench-result" and result["version"] == 1
    assert result["prompt_sha256"] == tm.PROMPT_SHA256
    assert result["settings"]["max_tokens"] == MAX_TOKENS
    runs = result["runs"]
    assert len(runs) == 3
    for run in runs:
        assert run["ttft_ms"] > 0
        assert run["decode_tps"] > 0
        assert run["tokens_generated"] > 1
        assert run["token_count_source"] in ("usage", "stream")
        if run["token_count_source"] == "usage":
            assert run["tokens_generated"] == MAX_TOKENS
            assert run["prompt_tokens"] > 1000  # byte tokens: ~3,100 for the timed prompt
        assert run["t0_s"] < run["t1_s"] <= run["t2_s"] <= run["t_end_s"]
    summary = result["summary"]
    assert summary["ttft_ms"]["median"] > 0 and summary["decode_tps"]["median"] > 0
    # llama-cpp-python names the model by its path: only the file name is written
    assert result["model"] == llama_server["model"].name
    assert str(llama_server["model"].parent) not in out.read_text(encoding="utf-8")
    # the engine named itself
    assert result["environment"]["runtime"] == "llama-cpp-python"
    import llama_cpp

    assert result["environment"]["runtime_version"] == llama_cpp.__version__
    print(
        f"llama.cpp ({api}): ttft {summary['ttft_ms']['median']} ms, "
        f"decode {summary['decode_tps']['median']} tok/s, tokens "
        f"{[r['tokens_generated'] for r in runs]} ({result['token_count_source']})"
    )


@pytest.mark.parametrize("required", [False, True])
def test_without_the_engine_the_test_skips_unless_it_is_required(monkeypatch, required):
    if required:
        monkeypatch.setenv("TRUSTBENCH_REQUIRE_ENGINE", "1")
    else:
        monkeypatch.delenv("TRUSTBENCH_REQUIRE_ENGINE", raising=False)
    outcome = pytest.fail.Exception if required else pytest.skip.Exception
    with pytest.raises(outcome, match=r"llama_cpp, gguf.*pip install -e '\.\[engine\]'"):
        require_engine(find_spec=lambda name: None)
