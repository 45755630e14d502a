"""The validation rules and the live check, called directly (no app, no database)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from webapp import schemas
from webapp.services import live_check, plausibility
from webapp.services.rules import Band
from webapp.web import forms

REFS = {
    "models": {"m": SimpleNamespace(slug="m"), "other": SimpleNamespace(slug="other")},
    "hardware": {"g": SimpleNamespace(kind="gpu"), "c": SimpleNamespace(kind="cpu"),
                 "other": SimpleNamespace(kind="other")},
    "quants": {"q": SimpleNamespace()},
    "runtimes": {"r": SimpleNamespace()},
}


def form(**values) -> MultiDict:
    base = {"model": "m", "hardware": "g", "quant": "q", "runtime": "r", "vram_peak_mib": "100"}
    for index in range(3):
        base.update({f"runs-{index}-ttft_ms": "100", f"runs-{index}-tokens_generated": "50",
                     f"runs-{index}-decode_tps": "10"})
    base.update(values)
    return MultiDict(base)


def test_a_valid_form_becomes_a_model():
    data, errors, posted = forms.parse_form(schemas.FreshSubmission, form(), REFS)
    assert errors == {} and data.run_tuples() == [(100.0, 50, 10.0)] * 3
    assert data.concurrent_users == 1 and data.hardware_count == 1 and data.notes == ""


def test_run_errors_point_at_the_row_they_came_from():
    values = form(**{"runs-1-ttft_ms": "", "runs-1-tokens_generated": "",
                     "runs-1-decode_tps": "", "runs-5-ttft_ms": "x",
                     "runs-5-tokens_generated": "5", "runs-5-decode_tps": "5"})
    _, errors, posted = forms.parse_form(schemas.FreshSubmission, values, REFS)
    assert posted.run_rows == [0, 2, 5]  # the blank row is ignored
    assert list(errors) == ["runs-5-ttft_ms"]


def test_a_wrong_run_count_still_reports_each_row():
    values = MultiDict({"runs-0-ttft_ms": "nan", "runs-0-tokens_generated": "1",
                        "runs-0-decode_tps": "1"})
    _, errors, _ = forms.parse_form(schemas.FreshSubmission, values, REFS)
    assert "runs" in errors and "finite" in errors["runs-0-ttft_ms"]


def test_field_labels_name_run_cells():
    assert forms.field_labels({"runs-3-decode_tps": "x", "notes": "y"}) == {
        "runs-3-decode_tps": "Run 4 decode speed", "notes": "Notes"}


def test_payloads_are_strict():
    with pytest.raises(ValueError):
        schemas.LockPayload.model_validate({"hub": "1", "model": 1, "hardware": 1, "count": 1,
                                            "quant": 1, "engine": "llama.cpp",
                                            "names": ["", "", "", ""]})
    with pytest.raises(ValueError):
        schemas.StatusPayload.model_validate({"id": 1, "nonce": "short"})


@given(st.dictionaries(
    st.sampled_from(["model", "hardware", "quant", "runtime", "vram_peak_mib", "prefill_tps",
                     "runs-0-ttft_ms", "runs-0-tokens_generated", "runs-0-decode_tps",
                     "runs-1-decode_tps", "hardware_count", "seed", "url", "handle", "notes",
                     "model_sha256_prefix", "speculative", "other_model", "cpu_family"]),
    st.text(max_size=40),
))
def test_any_input_gives_a_model_or_messages_never_an_exception(values):
    data, errors, posted = forms.parse_form(schemas.FreshSubmission, MultiDict(values), REFS)
    assert (data is None) == bool(errors)
    assert all(isinstance(message, str) and message for message in errors.values())


# --- the live check over plain values ----------------------------------------------------

HUB = SimpleNamespace(ttft_ms=250.0, decode_tps=100.0)


def check(runs, notes=False):
    return live_check.check(runs=runs, vram_peak_mib=None, note_given=notes,
                             setup=plausibility.Setup(), hub=HUB)


@pytest.mark.parametrize(("decode", "band", "blocking"), [
    (110.0, Band.WITHIN, set()),
    (125.0, Band.RELATED, {"notes"}),
    (125.5, Band.NOT_REPRODUCTION, {"band"}),
])
def test_the_check_decides_band_and_what_blocks(decode, band, blocking):
    result = check([(250.0, 512, decode)] * 3)
    assert result.band is band and set(result.blocking()) == blocking
    if band is Band.RELATED:
        assert check([(250.0, 512, decode)] * 3, notes=True).blocking() == {}


def test_the_check_speaks_before_the_third_run():
    result = check([(250.0, 512, 100.0)])
    assert result.runs_entered == 1 and not result.enough_runs and result.band is Band.WITHIN
    empty = check([])
    assert empty.summary is None and empty.band is None and empty.blocking() == {}


def test_typed_runs_skip_anything_half_typed():
    posted = forms.read_form(MultiDict({
        "runs-0-ttft_ms": "250", "runs-0-tokens_generated": "512", "runs-0-decode_tps": "100",
        "runs-1-ttft_ms": "25", "runs-1-tokens_generated": "51.5", "runs-1-decode_tps": "1",
        "runs-2-ttft_ms": "inf", "runs-2-tokens_generated": "5", "runs-2-decode_tps": "1",
        "runs-3-ttft_ms": "-1", "runs-3-tokens_generated": "5", "runs-3-decode_tps": "1",
    }))
    assert schemas.typed_runs(posted) == [(250.0, 512, 100.0)]
