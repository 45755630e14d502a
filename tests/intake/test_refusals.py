"""Bad input: every refusal is an IntakeError with a message the operator can act on."""

from __future__ import annotations

import json

import pytest

from tests.intake.conftest import fixture_bytes
from webapp.services.intake import MAX_BYTES, MAX_DEPTH, MAX_ITEMS, IntakeError, parse


def refuse(refs, raw: bytes, filename: str | None = "upload.json") -> str:
    with pytest.raises(IntakeError) as caught:
        parse(raw, filename=filename, references=refs)
    assert isinstance(caught.value, ValueError)
    return str(caught.value)


@pytest.mark.parametrize("raw", [b"", b"   \n\t\n", b"\xef\xbb\xbf"])
def test_empty(refs, raw):
    assert "empty" in refuse(refs, raw)


def test_over_the_size_limit_is_refused_before_reading(refs):
    message = refuse(refs, b" " * (MAX_BYTES + 1))
    assert "the limit is 2 MiB" in message


@pytest.mark.parametrize("cut", [0.3, 0.5, 0.99])
def test_truncated_json(refs, cut):
    raw = fixture_bytes("llama_bench_rtx4080_b5163.json")
    message = refuse(refs, raw[: int(len(raw) * cut)])
    assert "looks cut off" in message


def test_truncated_jsonl_names_the_line(refs):
    raw = fixture_bytes("llama_bench_rtx4080_b5163.jsonl")
    lines = raw.split(b"\n")
    message = refuse(refs, lines[0] + b"\n" + lines[1][:300], filename="b.jsonl")
    assert "Line 2" in message and "cut off" in message


def test_invalid_json(refs):
    message = refuse(refs, b'{"format": "trustbench-result", "version": 1,, "runs": []}')
    assert "not valid JSON" in message and "line 1" in message


def test_unknown_json(refs):
    message = refuse(refs, json.dumps({"hello": "world"}).encode())
    assert "“upload.json” is not a format the form can read" in message
    assert "llama-bench -o json" in message


def test_unknown_text(refs):
    message = refuse(refs, b"Just some notes about my GPU.\n", filename="notes.txt")
    assert "cannot read “notes.txt”" in message


def test_binary(refs):
    assert "not text" in refuse(refs, bytes(range(128, 256)) * 4, filename="model.gguf")


def test_deeply_nested_json(refs):
    raw = b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1)
    assert f"more than {MAX_DEPTH} levels" in refuse(refs, raw)


def test_very_deep_json_does_not_reach_the_parser(refs):
    # deep enough to overflow Python's recursion if it were parsed
    raw = b'{"a":' * 200_000 + b"1" + b"}" * 200_000
    assert "levels deep" in refuse(refs, raw)


def test_brackets_inside_strings_do_not_count_as_nesting(refs):
    data = json.loads(fixture_bytes("llama_bench_rtx4080_b5163.json"))
    data[0]["cpu_info"] = "[[[[[[[[[[[[[[[[[[[[{{{{{{{{{{{{ \\\" ]]]"
    intake = parse(json.dumps(data).encode(), filename="x.json", references=refs)
    assert intake.run_count == 5


def test_huge_json(refs):
    raw = ("[" + ",".join(["1"] * (MAX_ITEMS + 2)) + "]").encode()
    assert len(raw) < MAX_BYTES
    assert f"more than {MAX_ITEMS:,} values" in refuse(refs, raw)


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity", b"1e999"])
def test_nan_and_infinity(refs, constant):
    raw = fixture_bytes("llama_bench_rtx4080_b5163.json").replace(
        b'"avg_ts": 118.881588', b'"avg_ts": ' + constant
    )
    message = refuse(refs, raw)
    assert "not a measurement" in message
    assert "line " in message


def test_nan_in_a_jsonl_line_names_the_line(refs):
    raw = fixture_bytes("llama_bench_rtx4080_b5163.jsonl").replace(
        b'"avg_ts": 119.844681', b'"avg_ts": NaN'
    )
    assert "Line 2 contains NaN, which is not a measurement" in refuse(refs, raw, "b.jsonl")


@pytest.mark.parametrize("escape", [rb"\ud800", rb"\uDFFF", rb"x\udbff"])
def test_half_a_utf16_pair_is_not_text(refs, escape):
    raw = fixture_bytes("llama_bench_rtx4080_b5163.json").replace(
        b'"gpu_info": "', b'"gpu_info": "' + escape, 1)
    assert escape in raw
    message = refuse(refs, raw)
    assert "half of a UTF-16 pair" in message
    assert escape.decode().lstrip("x").lower() in message


def test_a_utf16_pair_escaped_is_read_as_its_character(refs):
    data = json.loads(fixture_bytes("llama_bench_rtx4080_b5163.json"))
    for record in data:
        record["model_filename"] = "llama-\U0001F600.gguf"
    raw = json.dumps(data).encode()  # ensure_ascii: the emoji as \ud83d\ude00
    assert b"\\ud83d\\ude00" in raw
    assert parse(raw, filename="x.json", references=refs).values


@pytest.mark.parametrize("number", [10**9, 10**60])
def test_a_build_number_no_build_has_is_noted_not_taken(refs, number):
    data = json.loads(fixture_bytes("llama_bench_rtx4080_b5163.json"))
    for record in data:
        record["build_number"] = number
    intake = parse(json.dumps(data).encode(), filename="x.json", references=refs)
    assert intake.values.get("runtime_version") != f"b{number}"
    assert any("is not a llama.cpp build number" in note for note in intake.notes)


def test_an_enormous_integer(refs):
    raw = b'{"format": "trustbench-result", "version": ' + b"9" * 5000 + b"}"
    assert "too large" in refuse(refs, raw)


def test_an_empty_list(refs):
    assert "empty list" in refuse(refs, b"[]")


def test_a_mixed_file(refs):
    lines = fixture_bytes("llama_bench_rtx4080_b5163.jsonl").split(b"\n")[:1]
    lines.append(fixture_bytes("vllm_llama32_3b_10qps.json").strip())
    message = refuse(refs, b"\n".join(lines), filename="mixed.jsonl")
    assert "line 2 is not a llama-bench result" in message


def test_an_integer_beyond_any_float(refs):
    data = json.loads(fixture_bytes("llama_bench_rtx4080_b5163.json"))
    data[1]["samples_ns"][0] = 10**400
    message = refuse(refs, json.dumps(data).encode())
    assert "samples_ns[0] is too large" in message


def test_nul_bytes(refs):
    assert "NUL" in refuse(refs, b'{"a": 1}\x00')


def test_pasted_text_must_be_bytes(refs):
    with pytest.raises(TypeError):
        parse("text", filename=None, references=refs)  # type: ignore[arg-type]
