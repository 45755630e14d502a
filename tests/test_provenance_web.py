"""How the numbers got there: the runner served at /measure.py with the guide's sha256, the
command on each row's page, and the source a row keeps when its runs came from a file."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import shlex
from html import unescape
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.intake.conftest import fixture_bytes
from tests.runner.loader import tm
from tests.test_intake_web import RUNNER_FILE, page_form, refs, upload
from tests.test_submit_support import form_values
from webapp.models import Submission
from webapp.services import provenance, runner_file
from webapp.services.rules import Kind, State

RUNNER_PATH = Path(importlib.util.find_spec("trustbench_measure").origin)
LLAMA_BENCH = "llama_bench_rtx4080_b5163.json"


def runner_bytes() -> bytes:
    return RUNNER_PATH.read_bytes()


# --- /measure.py and the guide -------------------------------------------------------------


def test_measure_py_serves_the_runner_file(client):
    response = client.get("/measure.py")
    assert response.status_code == 200
    assert response.data == runner_bytes()
    assert response.headers["Content-Type"] == "text/x-python; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        "inline; filename=trustbench_measure.py")
    sha256 = hashlib.sha256(runner_bytes()).hexdigest()
    assert response.headers["ETag"] == f'"{sha256}"'
    assert "no-cache" in response.headers["Cache-Control"]
    again = client.get("/measure.py", headers={"If-None-Match": f'"{sha256}"'})
    assert again.status_code == 304 and again.data == b""
    head = client.head("/measure.py")
    assert head.status_code == 200 and head.headers["ETag"] == f'"{sha256}"'


def test_the_guide_shows_the_files_sha256_and_the_two_commands(client):
    html = client.get("/resources/reproduction-guide").text
    sha256 = hashlib.sha256(runner_bytes()).hexdigest()
    assert re.search(r'id="runner-sha256">([0-9a-f]{64})<', html).group(1) == sha256
    download, run = commands_on(html)
    assert download == "curl -fLo trustbench_measure.py http://localhost/measure.py"
    assert run == "python3 trustbench_measure.py --endpoint http://127.0.0.1:8080"
    assert f"trustbench-measure</a> {tm.RUNNER_VERSION}" in html
    assert 'download="trustbench_measure.py"' in html


def commands_on(html: str) -> list[str]:
    block = re.search(r'<pre class="runner-command"[^>]*><code>(.*?)</code></pre>', html, re.S)
    assert block, "no runner command on the page"
    return unescape(block.group(1)).splitlines()


# --- the command on a row's page -----------------------------------------------------------


def test_the_detail_page_shows_the_command_with_the_rows_settings(client, make_row, session):
    runs = tuple((250.0 + i, 512, 100.0 + i) for i in range(5))
    row = make_row(max_tokens=256, seed=7, prompt_tokens=2000, runs=runs, runtime="ollama")
    session.commit()
    html = client.get(f"/benchmarks/{row.id}").text
    download, run = commands_on(html)
    assert download.endswith(" http://localhost/measure.py")
    argv = shlex.split(run)
    assert argv[:2] == ["python3", "trustbench_measure.py"]
    # the runner itself accepts it, with the row's settings
    args = tm.build_parser().parse_args(argv[2:])
    assert (args.max_tokens, args.seed, args.runs) == (256, 7, 5)
    assert args.endpoint == "http://127.0.0.1:11434"  # Ollama's usual address
    assert "2000-token prompt" in unescape(html)
    # next to "Reproduce this benchmark"
    assert html.index("Reproduce this benchmark") < html.index('id="measure-command"')
    assert html.index('id="measure-command"') < html.index('id="h-numbers"')


def test_a_row_without_a_seed_gets_the_runners_default(client, make_row, session):
    row = make_row(seed=None, max_tokens=None)
    session.commit()
    html = client.get(f"/benchmarks/{row.id}").text
    _download, run = commands_on(html)
    assert run == "python3 trustbench_measure.py --endpoint http://127.0.0.1:8080"
    assert "did not record its seed" in html


def test_the_reproduce_form_shows_the_same_commands(client, make_row, session):
    row = make_row(max_tokens=300, seed=11)
    session.commit()
    _download, run = commands_on(client.get(f"/benchmarks/{row.id}/reproduce").text)
    assert "--max-tokens 300 --seed 11" in run


def test_the_runner_file_is_read_once(monkeypatch):
    first = runner_file.served()
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("read again"))
    assert runner_file.served() is first


# --- provenance: stored with the row, shown beside the numbers -----------------------------


@pytest.fixture
def hub(runner_hub):
    return runner_hub


def imported_form(client, path: str, name: str = RUNNER_FILE, raw: bytes | None = None,
                  **typed) -> dict[str, str]:
    """Import a file on the form at `path`, then the form as the browser would send it."""
    response = upload(client, f"{path}/import", raw or fixture_bytes(name),
                      typed={"vram_peak_mib": "6100", **typed})
    assert response.status_code == 200, response.text[:400]
    values = form_values(response.text)
    values["csrf_token"] = page_form(client, path)["csrf_token"]
    values.pop("website", None)
    return values


def newest(session) -> Submission:
    session.expire_all()
    return session.scalars(select(Submission).order_by(Submission.id.desc())).first()


def send(client, path: str, values: dict[str, str]) -> None:
    response = client.post(path, data=values)
    assert response.status_code == 303, response.text[:2000]


def test_a_reproduction_measured_by_the_runner_keeps_its_source(client, hub, session):
    path = f"/benchmarks/{hub.id}/reproduce"
    send(client, path, imported_form(client, path))
    row = newest(session)
    assert row.kind == Kind.REPRODUCTION
    assert (row.source_format, row.source_version) == ("trustbench-result", "1.0")
    assert row.source_sha256 == hashlib.sha256(fixture_bytes(RUNNER_FILE)).hexdigest()
    assert provenance.of_row(row).text == "measured with trustbench-measure 1.0"


def test_a_fresh_row_imported_from_llama_bench_says_so_on_its_page(client, session):
    values = imported_form(client, "/submit/benchmark", LLAMA_BENCH,
                           driver_version="NVIDIA 560.35.03")
    for index in range(5):  # llama-bench measures no TTFT: the operator types it
        values[f"runs-{index}-ttft_ms"] = "80"
    send(client, "/submit/benchmark", values)
    row = newest(session)
    assert (row.source_format, row.source_version) == ("llama-bench-json", "b5163")
    row.state = State.APPROVED
    session.commit()
    html = unescape(client.get(f"/benchmarks/{row.id}").text)
    line = re.search(r'<p class="provenance[^"]*" id="provenance">(.*?)</p>', html).group(1)
    assert "How the numbers got there: imported from llama-bench b5163" in line
    assert row.source_sha256 in line and "TTFT was typed by hand" in line


def test_respelling_a_number_keeps_the_source(client, hub, session):
    path = f"/benchmarks/{hub.id}/reproduce"
    values = imported_form(client, path)
    values["runs-0-decode_tps"] = values["runs-0-decode_tps"] + "0"  # 250.5 -> 250.50
    send(client, path, values)
    assert newest(session).source_format == "trustbench-result"


@pytest.mark.parametrize("edit", ["changed", "added", "emptied"])
def test_editing_the_runs_makes_them_typed_by_hand(client, hub, session, edit):
    path = f"/benchmarks/{hub.id}/reproduce"
    data = json.loads(fixture_bytes(RUNNER_FILE))
    data["runs"].append(dict(data["runs"][2], index=3))  # four runs, so one can go
    values = imported_form(client, path, raw=json.dumps(data).encode())
    if edit == "changed":
        values["runs-1-ttft_ms"] = "190"
    elif edit == "added":
        values.update({"runs-4-ttft_ms": "203", "runs-4-tokens_generated": "512",
                       "runs-4-decode_tps": "250.4"})
    else:
        values["runs-3-ttft_ms"] = values["runs-3-tokens_generated"] = ""
        values["runs-3-decode_tps"] = ""
    send(client, path, values)
    row = newest(session)
    assert (row.source_format, row.source_version, row.source_sha256) == (None, None, None)
    row.state = State.APPROVED
    row.kind = Kind.FRESH
    row.hub_id = None
    session.commit()
    html = client.get(f"/benchmarks/{row.id}").text
    assert "How the numbers got there: typed by hand." in html


@pytest.mark.parametrize("tamper", ["flipped", "forged", "other salt", "garbage"])
def test_a_tampered_provenance_token_is_ignored(client, hub, session, app, tamper):
    path = f"/benchmarks/{hub.id}/reproduce"
    values = imported_form(client, path)
    token = values["provenance"]
    if tamper == "flipped":
        values["provenance"] = token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB")
    elif tamper == "forged":  # the payload rewritten to claim another source
        from itsdangerous import URLSafeTimedSerializer

        payload = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=provenance.SALT
                                         ).loads(token)
        payload["f"] = "vllm-bench"
        values["provenance"] = URLSafeTimedSerializer("not-the-key", salt=provenance.SALT
                                                      ).dumps(payload)
    elif tamper == "other salt":  # a status-link token passes as nothing else
        from webapp.services import tokens

        values["provenance"] = tokens.status_token(hub)
    else:
        values["provenance"] = "{}" * 40
    send(client, path, values)
    assert newest(session).source_format is None


def test_a_token_for_other_runs_is_ignored(client, hub, session):
    """A genuine token, but carried over to runs it did not import."""
    path = f"/benchmarks/{hub.id}/reproduce"
    data = json.loads(fixture_bytes(RUNNER_FILE))
    data["runs"][0]["decode_tps"] = 250.2
    other = imported_form(client, path, raw=json.dumps(data).encode())
    values = imported_form(client, path)
    values["provenance"] = other["provenance"]
    send(client, path, values)
    assert newest(session).source_format is None


def test_rows_typed_by_hand_say_so(client, hub):
    assert "How the numbers got there: typed by hand." in client.get(f"/benchmarks/{hub.id}").text


def test_the_ttft_caveat_matches_what_each_format_fills():
    """TTFT_TYPED names exactly the formats whose runs come without a TTFT."""
    from webapp.services.intake import parse

    for name in ("trustbench_result_fake_engine.json", LLAMA_BENCH,
                 "llama_bench_rtx3090ti_b1275.jsonl", "ollama_mistral_issue1806.txt",
                 "ollama_api_generate_runs.json"):
        found = parse(fixture_bytes(name), filename=name, references=refs())
        has_ttft = any(key.endswith("-ttft_ms") for key in found.values)
        assert (found.format in provenance.TTFT_TYPED) == (not has_ttft), name
