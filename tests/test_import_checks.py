"""What an import checks in a result file beyond its numbers, and where that shows: the
runner's prompt (another one is refused), what makes the file doubtful (kept with the row
and shown to reviewers and readers beside its provenance), the day it was measured (the
form's measurement date), and a reproduction that is the original's own file."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from html import unescape

import pytest

from tests.intake.conftest import fixture_bytes
from tests.test_intake_web import RUNNER_FILE, TYPED, upload
from tests.test_provenance_web import LLAMA_BENCH, imported_form, newest, send
from tests.test_submit_support import field_error, form_values
from webapp.services import intake, runner_file
from webapp.services.intake import runner
from webapp.services.rules import Kind, State


def provenance_line(html: str) -> str:
    match = re.search(r'<p class="provenance[^"]*" id="provenance">(.*?)</p>', html, re.S)
    assert match, "no provenance line on the page"
    return unescape(match.group(1))


def result(**changes) -> bytes:
    """The runner fixture as the runner this site serves would write it, with `changes`
    (None removes a key)."""
    data = json.loads(fixture_bytes(RUNNER_FILE))
    data["runner_sha256"] = runner_file.served().sha256
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return json.dumps(data).encode()


@pytest.fixture
def hub(runner_hub):
    return runner_hub


def test_the_runners_prompt_hash_is_the_one_the_intake_checks():
    from tests.runner.loader import tm

    assert runner.PROMPT_SHA256 == tm.PROMPT_SHA256


def test_a_result_measured_with_another_prompt_is_refused_and_the_form_kept(client):
    response = upload(client, "/submit/benchmark/import", result(prompt_sha256="1" * 64),
                      typed=TYPED)
    assert response.status_code == 422
    message = field_error(response.text, "intake_file")
    assert "measured with another prompt than the runner's" in message
    shown = form_values(response.text)
    assert shown["handle"] == TYPED["handle"] and shown["notes"] == TYPED["notes"]
    assert shown.get("runs-0-decode_tps", "") == ""  # nothing filled from the file


def test_a_file_of_the_served_runner_carries_no_caveat(client, hub, session):
    path = f"/benchmarks/{hub.id}/reproduce"
    send(client, path, imported_form(client, path, raw=result()))
    row = newest(session)
    assert row.source_format == "trustbench-result" and row.source_doubts is None


def edited(data: dict) -> dict:
    """5% faster than its own timestamps say (still a reproduction of the hub)."""
    for run in data["runs"]:
        run["decode_tps"] = round(run["decode_tps"] * 1.05, 3)
    return data


@pytest.mark.parametrize(("case", "sentence"), [
    ("no prompt", "does not name the prompt it measured"),
    ("edited", "timestamps disagree with its decode speed"),
    ("other runner", "not written by the runner this site serves"),
])
def test_what_makes_a_file_doubtful_reaches_the_reviewer_and_the_reader(
        client, reviewer_client, hub, session, case, sentence):
    if case == "no prompt":
        raw = result(prompt_sha256=None)
    elif case == "edited":
        raw = json.dumps(edited(json.loads(result()))).encode()
    else:
        raw = result(runner_sha256="0" * 64)
    path = f"/benchmarks/{hub.id}/reproduce"
    response = upload(client, f"{path}/import", raw, typed={"vram_peak_mib": "6100"})
    assert response.status_code == 200
    assert sentence in unescape(response.text)  # the operator is told at the import
    send(client, path, imported_form(client, path, raw=raw))
    row = newest(session)
    assert row.source_format == "trustbench-result"

    review = provenance_line(reviewer_client.get(f"/review/submissions/{row.id}").text)
    assert "measured with trustbench-measure 1.0" in review and sentence in review

    row.state, row.kind, row.hub_id = State.APPROVED, Kind.FRESH, None  # a row of its own
    session.commit()
    assert sentence in provenance_line(client.get(f"/benchmarks/{row.id}").text)
    caveat = client.get(f"/api/v1/benchmarks/{row.id}").json["provenance"]["caveat"]
    assert sentence in caveat


def test_a_token_cannot_claim_a_doubt_the_site_does_not_know(client, hub, session, app):
    from itsdangerous import URLSafeTimedSerializer

    from webapp.services import provenance

    path = f"/benchmarks/{hub.id}/reproduce"
    values = imported_form(client, path, raw=result())
    signer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=provenance.SALT)
    payload = signer.loads(values["provenance"])
    payload["q"] = ["<script>"]
    values["provenance"] = signer.dumps(payload)
    send(client, path, values)
    assert newest(session).source_format is None  # typed by hand, as any bad token


# --- the day it was measured ---------------------------------------------------------------


def test_the_files_date_fills_the_measurement_date(client, hub, session):
    hub.measured_at = datetime(2024, 6, 1, 12, tzinfo=UTC)
    session.commit()
    path = f"/benchmarks/{hub.id}/reproduce"
    raw = result(created_at="2025-01-01T23:30:00-02:00")  # 2025-01-02 in UTC
    response = upload(client, f"{path}/import", raw, typed={"vram_peak_mib": "6100"})
    assert form_values(response.text)["measured_on"] == "2025-01-02"
    assert "created_at" in unescape(response.text)  # the source line names the key
    send(client, path, imported_form(client, path, raw=raw))
    assert newest(session).measured_at.date().isoformat() == "2025-01-02"


@pytest.mark.parametrize(("created_at", "why"), [
    ("2099-01-01T00:00:00Z", "is after today"),
    ("yesterday", "could not be read"),
    (12345, "could not be read"),
])
def test_a_date_still_to_come_or_unreadable_fills_nothing_and_says_so(client, created_at, why):
    response = upload(client, "/submit/benchmark/import", result(created_at=created_at),
                      typed={"measured_on": "2026-01-05"})
    assert response.status_code == 200
    assert form_values(response.text)["measured_on"] == "2026-01-05"  # as typed
    assert why in unescape(response.text)


def test_llama_benchs_test_time_fills_the_measurement_date(client):
    response = upload(client, "/submit/benchmark/import", fixture_bytes(LLAMA_BENCH),
                      name=LLAMA_BENCH)
    assert form_values(response.text)["measured_on"] == "2025-04-24"


@pytest.mark.parametrize(("written", "day"), [
    ("2025-01-01", "2025-01-01"),
    ("2025-01-01T10:00:00Z", "2025-01-01"),
    ("2025-01-01T10:00:00.123456789+05:00", "2025-01-01"),  # Ollama's nanoseconds
    ("2025-01-01T01:00:00+05:00", "2024-12-31"),
    ("20250530-194738", "2025-05-30"),  # vLLM's
    ("2025-13-01", None), ("2025-01-01junk", None), ("", None), ("9" * 80, None),
])
def test_the_dates_tools_write(written, day):
    found = intake.core.measured_day(written)
    assert (found.isoformat() if found else None) == day


# --- a reproduction that is the original's own file ------------------------------------------


def test_the_originals_own_file_is_refused_at_the_reproduce_import(client, hub, session):
    raw = result()
    hub.source_format, hub.source_sha256 = "trustbench-result", hashlib.sha256(raw).hexdigest()
    session.commit()
    response = upload(client, f"/benchmarks/{hub.id}/reproduce/import", raw, typed=TYPED)
    assert response.status_code == 409
    assert "the original benchmark's own result file" in field_error(response.text,
                                                                     "intake_file")
    assert form_values(response.text)["handle"] == TYPED["handle"]


def test_a_second_copy_of_a_reproductions_file_cannot_be_marked_reproduced(
        client, reviewer_client, hub, session):
    path = f"/benchmarks/{hub.id}/reproduce"
    values = imported_form(client, path, raw=result(), handle="first-operator")
    send(client, path, values)
    first = newest(session)
    # The same file again: refused at the import...
    again = upload(client, f"{path}/import", result(), typed=TYPED)
    assert again.status_code == 409
    assert f"already sent as a reproduction of this benchmark (#{first.id}" in field_error(
        again.text, "intake_file")
    # ...and a form carrying the first import's token lands in the queue flagged, and
    # cannot be marked reproduced.
    values["handle"] = "second-operator"
    send(client, path, values)
    second = newest(session)
    assert second.kind == Kind.REPRODUCTION and second.source_sha256 == first.source_sha256
    queue = reviewer_client.get("/review/?flag=same-measurement").text
    assert f"/review/submissions/{second.id}" in queue
    assert f"/review/submissions/{first.id}\"" not in queue
    page = unescape(reviewer_client.get(f"/review/submissions/{second.id}").text)
    assert f"Its result file is reproduction #{first.id}'s own" in page
    response = reviewer_client.post(f"/review/submissions/{second.id}/reproduced", {})
    assert response.status_code in (409, 422)
    session.expire_all()
    assert second.state == State.QUEUED


# --- what the form would refuse, named at the import ------------------------------------------


def test_an_imported_value_the_form_refuses_is_named_beside_its_field_at_once(client):
    environment = {"gpu_name": "NVIDIA GeForce RTX 4090", "gpu_count": 1_000_000}
    response = upload(client, "/submit/benchmark/import",
                      result(environment=environment, created_at="2025-01-01T10:00:00Z"),
                      typed={"handle": "kept-handle"})
    assert response.status_code == 200  # the file was read; the form says what to fix
    shown = form_values(response.text)
    assert shown["hardware_count"] == "1000000" and shown["handle"] == "kept-handle"
    assert field_error(response.text, "hardware_count")
    # fields the operator has still to fill (the VRAM peak, here) say nothing yet
    assert field_error(response.text, "vram_peak_mib") is None


def test_a_files_date_before_the_originals_is_named_at_the_reproduce_import(client, hub,
                                                                            session):
    hub.measured_at = datetime(2025, 6, 1, 12, tzinfo=UTC)
    session.commit()
    response = upload(client, f"/benchmarks/{hub.id}/reproduce/import",
                      result(created_at="2025-01-01T10:00:00Z"))
    assert response.status_code == 200
    assert "cannot be measured before the original" in field_error(response.text,
                                                                   "measured_on")
