"""Operator identity, the badge ladder and rings (SPEC §5), without an app or database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webapp.services.rules import Badge, Kind, Ring, State
from webapp.services.trust import (
    EDITORIAL_OPERATOR,
    Environment,
    HubFacts,
    ReproFacts,
    badge,
    has_bidi_control,
    independent_operators,
    look_alike,
    normalise_handle,
    placement,
    reserved_handle,
    ring,
    same_operator,
)

MEASURED = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
ENV = Environment(os_label="Ubuntu 24.04", driver_version="550.54.14", runtime_version="b4500")
COMPLETE = {
    "runtime_version": "b4500",
    "driver_version": "550.54.14",
    "os_label": "Ubuntu 24.04",
    "prompt_tokens": 500,
    "max_tokens": 512,
    "quant_provider": "bartowski",
}


def hub(kind: Kind = Kind.FRESH, operator: str = "alice") -> HubFacts:
    return HubFacts(
        kind=kind, operator=operator, environment=ENV, ttft_ms=200.0, decode_tps=100.0,
        ttft_spread=0.02, decode_spread=0.02, spread_explained=False, metadata=COMPLETE,
        measured_at=MEASURED,
    )


def repro(operator: str, state: State = State.REPRODUCED, env: Environment = ENV) -> ReproFacts:
    return ReproFacts(operator=operator, state=state, environment=env, ttft_ms=200.0,
                      decode_tps=100.0, measured_at=MEASURED)


# --- handles -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("alice", "alice"),
        ("  Alice  ", "alice"),
        ("@Alice", "alice"),
        ("  @alice", "alice"),
        ("@ alice", "alice"),
        ("@@alice", "alice"),
        ("Alice   the\tTester", "alice the tester"),
        ("STRASSE", "strasse"),
        ("Straße", "strasse"),
        ("ａｌｉｃｅ", "alice"),  # full-width letters fold to ASCII
        ("al@ice", "al@ice"),  # only a leading '@' is decoration
    ],
)
def test_normalise_handle(raw, key):
    assert normalise_handle(raw) == key


@pytest.mark.parametrize("raw", [
    "alice\u200b",  # zero-width space
    "ali\u200dce",  # zero-width joiner
    "al\u200cice",  # zero-width non-joiner
    "al\u00adice",  # soft hyphen
    "\ufeffalice",  # byte order mark / zero-width no-break space
    "a\u2060lice",  # word joiner
    "alice\u202e",  # right-to-left override (refused at the form, never a second key)
    "\u2066alice\u2069",  # isolates
    "@\u200b Alice",
    "Alice\ufe0f",  # a variation selector: invisible, not a format character
    "alice\u2800",  # the blank Braille pattern: a symbol that draws nothing
    "ali\ue000ce",  # private use: no font of the reader's draws the writer's glyph
    "alice\U0010ffff",  # private use, supplementary plane
    "alice\ufffe",  # a noncharacter
    "alice\U000e0080",  # unassigned
    "ᴀlice", "ᴀʟɪᴄᴇ",  # Latin small capitals read as their letters
])
def test_invisible_characters_never_make_a_second_operator(raw):
    """SPEC §11: handles are compared after NFKC, case folding and removing format
    characters (Unicode category Cf), so these render like "alice" and are "alice"."""
    assert normalise_handle(raw) == "alice"


@pytest.mark.parametrize(("raw", "bidi"), [
    ("alice", False), ("al\u200bice", False), ("\u202eecila", True), ("a\u200fb", True),
    ("a\u2067b\u2069", True), ("\u061calice", True), ("שלום", False),
])
def test_bidi_controls_are_found(raw, bidi):
    assert has_bidi_control(raw) is bidi


@pytest.mark.parametrize(("a", "b", "alike"), [
    ("alice", "\u0430lice", True),  # Cyrillic a
    ("origin", "\u043erigin", True),  # Cyrillic o
    ("paypal", "payp\u0430l", True),
    ("Iris", "lris", True),  # capital I and small l look alike before case folding
    ("bob1", "bobl", True),
    ("Will", "WiII", True),  # two capital I's: their key "wiii" keeps no capital
    ("will", "wiii", True),  # and a key stands for every capitalisation of it
    ("Paul", "Pau\u04c0", True),  # a Cyrillic palochka, folded to its small form
    ("alice", "alice", False),  # the same key is the same operator, not a look-alike
    ("alice", "alicia", False),
    ("alice", "bobby", False),
    ("сергей", "сергеи", False),  # a different Cyrillic letter is a different name
])
def test_look_alike_handles(a, b, alike):
    assert look_alike(a, b) is alike
    assert look_alike(b, a) is alike


@pytest.mark.parametrize(("raw", "reserved"), [
    ("Editorial", True), (" @EDITORIAL ", True), ("edit\u200borial", True),
    ("\u0435ditorial", True),  # a Cyrillic e: looks like the editors' key
    ("anon:7", True), ("ANON:7", True), ("anon\uff1a7", True),  # full-width colon
    ("marta", True), ("MARTA", True),  # a reviewer's name
    ("editoriaI", True), ("maIta", False),  # a capital I for an l, as typed (not folded)
    ("mart\u0430", True), ("marti\u0307a", False),
    ("ma\u0307rta", False),  # a dot above an a shows; above an i it does not:
    ("edi\u0307torial", True), ("ed\u0130torial", True),
    ("anon\u22367", True),  # a ratio sign for the colon
    ("anonymous", False), ("annie", False), ("anon", False),
    ("editorials", False), ("anonymous", False), ("martha", False), ("alice", False),
])
def test_reserved_handles(raw, reserved):
    assert reserved_handle(raw, reviewer_names=["marta"]) is reserved
    assert EDITORIAL_OPERATOR == "editorial"


@pytest.mark.parametrize("raw", [None, "", "   ", "@", " @ ", "\t\n", "\u2800\u2800",
                                 "\ue000", "@\ufffe"])
def test_empty_handles_normalise_to_none(raw):
    assert normalise_handle(raw) is None


@given(st.text(max_size=30))
def test_normalising_is_idempotent(raw):
    once = normalise_handle(raw)
    if once is not None:
        assert normalise_handle(once) == once


# --- independent operators -----------------------------------------------------------


def test_only_reproduced_runs_by_other_operators_count():
    repros = [
        repro("bob"),
        repro("bob"),  # the same operator twice counts once
        repro("carol"),
        repro("alice"),  # the hub's own operator
        repro("dave", State.QUEUED),
        repro("erin", State.REJECTED),
        repro("frank", State.WITHDRAWN),
        repro("grace", State.APPROVED),  # fragmented into a row of its own
    ]
    assert independent_operators(hub(), repros) == {"bob", "carol"}


def test_anonymous_operators_are_distinct():
    repros = [repro("anon:17"), repro("anon:18")]
    assert independent_operators(hub(), repros) == {"anon:17", "anon:18"}
    assert badge(hub(), repros) is Badge.INDEPENDENT


def test_an_anonymous_hub_is_not_independent_of_itself():
    anonymous_hub = hub(operator="anon:5")
    assert independent_operators(anonymous_hub, [repro("anon:5")]) == frozenset()
    assert badge(anonymous_hub, [repro("anon:5")]) is Badge.COMMUNITY


def test_independent_operators_accepts_a_generator():
    assert independent_operators(hub(), (repro(name) for name in ("bob", "carol"))) == {
        "bob", "carol",
    }


# --- badge ---------------------------------------------------------------------------


def test_unreproduced_rows_show_who_measured():
    assert badge(hub(Kind.FRESH), []) is Badge.COMMUNITY
    assert badge(hub(Kind.EDITORIAL), []) is Badge.EDITORIAL


def test_a_fragmented_reproduction_row_is_community_submitted():
    assert badge(hub(Kind.REPRODUCTION), []) is Badge.COMMUNITY


def test_one_other_operator_reproduces():
    assert badge(hub(), [repro("bob")]) is Badge.REPRODUCED
    assert badge(hub(Kind.EDITORIAL), [repro("bob")]) is Badge.REPRODUCED


def test_two_distinct_other_operators_reproduce_independently():
    assert badge(hub(), [repro("bob"), repro("carol")]) is Badge.INDEPENDENT
    assert badge(hub(), [repro("bob"), repro("carol"), repro("dave")]) is Badge.INDEPENDENT


def test_two_reproductions_by_one_operator_are_not_independent():
    assert badge(hub(), [repro("bob"), repro("bob")]) is Badge.REPRODUCED


def test_the_hubs_own_reproductions_never_lift_the_badge():
    assert badge(hub(), [repro("alice"), repro("alice")]) is Badge.COMMUNITY
    assert badge(hub(), [repro("alice"), repro("bob")]) is Badge.REPRODUCED


@pytest.mark.parametrize("state", [State.QUEUED, State.REJECTED, State.WITHDRAWN,
                                   State.APPROVED])
def test_non_reproduced_states_never_count(state):
    assert badge(hub(), [repro("bob", state), repro("carol", state)]) is Badge.COMMUNITY


def test_a_revoked_reproduction_lowers_the_badge_again():
    before = [repro("bob"), repro("carol")]
    after = [repro("bob"), repro("carol", State.REJECTED)]
    assert badge(hub(), before) is Badge.INDEPENDENT
    assert badge(hub(), after) is Badge.REPRODUCED


def test_badge_ranks_and_presentation():
    assert Badge.EDITORIAL.rank == Badge.COMMUNITY.rank == 0
    assert Badge.REPRODUCED.rank == 1
    assert Badge.INDEPENDENT.rank == 2
    assert Badge.INDEPENDENT.css == "badge-independently-reproduced"
    assert Badge.COMMUNITY.label == "Community-submitted"
    assert all(b.explanation for b in Badge)


@given(
    existing=st.lists(st.sampled_from(["bob", "carol", "dave", "alice", "anon:1"]),
                      max_size=6),
    states=st.lists(st.sampled_from(list(State)), min_size=6, max_size=6),
    kind=st.sampled_from([Kind.FRESH, Kind.EDITORIAL]),
)
def test_a_new_distinct_operator_never_lowers_the_badge(existing, states, kind):
    the_hub = hub(kind)
    repros = [repro(name, state) for name, state in zip(existing, states, strict=False)]
    before = badge(the_hub, repros)
    after = badge(the_hub, [*repros, repro("newcomer")])
    assert after.rank >= before.rank
    assert after.rank >= 1


# --- rings ---------------------------------------------------------------------------


def test_same_environment_is_the_inner_ring():
    assert ring(ENV, ENV) is Ring.INNER


def test_environment_comparison_ignores_case_and_spacing():
    loose = Environment(os_label="  ubuntu   24.04 ", driver_version="550.54.14 ",
                        runtime_version="B4500")
    assert ring(ENV, loose) is Ring.INNER


@pytest.mark.parametrize(
    "other",
    [
        Environment("Windows 11", "550.54.14", "b4500"),
        Environment("Ubuntu 24.04", "560.35.03", "b4500"),
        Environment("Ubuntu 24.04", "550.54.14", "b4600"),
        Environment(None, "550.54.14", "b4500"),
    ],
)
def test_any_difference_is_the_outer_ring(other):
    assert ring(ENV, other) is Ring.OUTER


def test_unrecorded_and_blank_are_the_same_environment():
    assert ring(Environment(None, None, None), Environment("", "  ", None)) is Ring.INNER


def test_only_runs_within_tolerance_are_placed_in_a_ring():
    """SPEC §11: a related-band run a reviewer accepted is evidence for the badge, but it
    is shown apart from the rings, never as ring evidence."""
    other_os = Environment("Windows 11", "550.54.14", "b4500")
    within = ReproFacts(operator="bob", state=State.REPRODUCED, environment=other_os,
                        ttft_ms=210.0, decode_tps=90.0, measured_at=MEASURED)  # 10%
    related = ReproFacts(operator="carol", state=State.REPRODUCED, environment=other_os,
                         ttft_ms=200.0, decode_tps=85.0, measured_at=MEASURED)  # 15%
    same_env_related = ReproFacts(operator="dave", state=State.REPRODUCED, environment=ENV,
                                  ttft_ms=240.0, decode_tps=100.0, measured_at=MEASURED)
    assert placement(hub(), within) is Ring.OUTER
    assert placement(hub(), repro("erin")) is Ring.INNER
    assert placement(hub(), related) is None
    assert placement(hub(), same_env_related) is None
    # ...and still counts for the badge, as the reviewer decided
    assert badge(hub(), [related]) is Badge.REPRODUCED
    assert badge(hub(), [related, same_env_related]) is Badge.INDEPENDENT


def test_ring_labels():
    assert Ring.INNER.label and Ring.OUTER.explanation


# --- facts ---------------------------------------------------------------------------


def test_facts_need_aware_datetimes():
    naive = datetime(2025, 1, 1)
    with pytest.raises(ValueError):
        ReproFacts(operator="bob", state=State.REPRODUCED, environment=ENV, ttft_ms=1,
                   decode_tps=1, measured_at=naive)
    with pytest.raises(ValueError):
        HubFacts(kind=Kind.FRESH, operator="a", environment=ENV, ttft_ms=1, decode_tps=1,
                 ttft_spread=0, decode_spread=0, spread_explained=False, metadata={},
                 measured_at=naive)


def test_facts_accept_any_aware_timezone():
    plus_two = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(hours=2)
    repro_facts = ReproFacts(operator="bob", state=State.REPRODUCED, environment=ENV,
                             ttft_ms=1, decode_tps=1, measured_at=plus_two)
    assert repro_facts.measured_at == plus_two


# --- the rule set itself ---------------------------------------------------------------


def test_the_rules_engine_imports_neither_flask_nor_the_database():
    import ast
    from pathlib import Path

    services = Path(__file__).resolve().parents[2] / "webapp" / "services"
    for name in ("rules", "divergence", "trust", "confidence", "plausibility"):
        tree = ast.parse((services / f"{name}.py").read_text())
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                    for alias in node.names}
        imported |= {node.module or "" for node in ast.walk(tree)
                     if isinstance(node, ast.ImportFrom)}
        for module in imported:
            assert not module.startswith(("flask", "sqlalchemy", "webapp.models",
                                          "webapp.extensions")), (name, module)


def test_rule_set_v1_numbers():
    from webapp.services import rules

    assert (rules.TOLERANCE, rules.RELATED_LIMIT, rules.SPREAD_LIMIT) == (0.10, 0.25, 0.10)
    assert (rules.MIN_RUNS, rules.MAX_RUNS) == (3, 10)
    assert rules.TTFT_MAX_MS == 600_000
    assert rules.DECODE_MAX_TPS == 100_000
    assert rules.VRAM_MAX_MIB == 4 * 1024 * 1024
    assert rules.CEILING_MARGIN == 1.10 and rules.CV_LIMIT == 0.10
    assert (rules.VERY_HIGH_OPERATORS, rules.HIGH_OPERATORS, rules.MODERATE_OPERATORS) == (
        4, 2, 1)
    assert rules.REJECTION_REASON_MAX == 160


def test_rule_set_v1_lists():
    from webapp.services import rules

    assert len(rules.REJECTION_REASONS) == 5
    assert all(len(reason) <= rules.REJECTION_REASON_MAX for reason in rules.REJECTION_REASONS)
    assert list(rules.FEEDBACK_KINDS) == ["numbers-look-wrong", "stale", "metadata-error",
                                          "other"]
    assert list(rules.METADATA_FIELDS) == ["runtime_version", "driver_version", "os_label",
                                           "prompt_tokens", "max_tokens", "quant_provider"]
    assert rules.RATE_LIMITS["submissions"] == (10, 3600)
    assert rules.RATE_LIMITS["feedback"].limit == 20
    assert rules.RATE_LIMITS["login"] == rules.RateLimit(limit=10, window_seconds=900)
    assert rules.RATE_LIMITS["login"].label == "10 per 15 minutes"
    assert rules.RATE_LIMITS["submissions"].label == "10 per hour"
    with pytest.raises(TypeError):
        rules.RATE_LIMITS["login"] = rules.RateLimit(1, 1)


def test_states():
    assert State.APPROVED == "approved-public"
    assert {s for s in State if s.is_public} == {State.APPROVED, State.REPRODUCED}
    assert all(s.label for s in State)
    assert Kind.EDITORIAL.label


def test_percent_renders_thresholds():
    from webapp.services.rules import percent

    assert percent(0.1) == "10%"
    assert percent(0.25) == "25%"
    assert percent(0.113) == "11.3%"
    # past a whole-percent limit never reads as on it
    assert percent(0.1001) == "10.01%" and percent(0.250001) == "25.0001%"
    assert percent(0.0999) == "9.99%" and percent(-0.1001) == "-10.01%"
    assert percent(0.1 * 1.0000000001) == "10%"  # float noise is not a difference


@pytest.mark.parametrize(("a", "b", "same"), [
    ("dave", "dave", True),
    ("dave", "d\u0430ve", True),  # Cyrillic а
    ("bob1", "bobl", True),
    ("will", "wiii", True),  # the keys of "Will" and "WiII" (two capital I's)
    ("paul", "pau\u04cf", True),  # of "Paul" and "Pau\u04c0" (a Cyrillic palochka)
    ("anna", "anne", False),
    ("dave", "davey", False),
    ("dave", "carol", False),
    ("anon:0a1b", "anon:0a1b", True),
    ("anon:0a1b", "anon:0alb", False),  # random keys: never typed, never alike
])
def test_same_operator(a, b, same):
    assert same_operator(a, b) is same
    assert same_operator(b, a) is same


def test_look_alike_operators_count_once_and_not_as_the_hubs_own():
    repros = [repro("dave"), repro("d\u0430ve"), repro("\u0430lice"), repro("carol"),
              repro("dav\u0435", State.REJECTED)]
    found = independent_operators(hub(operator="alice"), repros)
    assert found == frozenset({"dave", "carol"})
    assert badge(hub(operator="alice"), repros[:3]) is Badge.REPRODUCED
