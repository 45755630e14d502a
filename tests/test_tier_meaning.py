"""The sentence beside a tier never contradicts the reasons it was derived from (SPEC §6):
a row that started higher and was lowered by age, runtime drift or inconsistent numbers
reads as that, on its page, in the catalog's hover text, on the methodology page and in
the API's rule set."""

from __future__ import annotations

import html
import re

import html5lib
import pytest

from tests.factories import publish
from webapp.services import evidence
from webapp.services.rules import AGE_LOWER_DAYS, Kind, State, Tier

NS = "{http://www.w3.org/1999/xhtml}"
OVER_A_YEAR = AGE_LOWER_DAYS + 35
# What a reason that moved the tier is called in the sentence beside the tier.
LOWERED_BY = {"Age": "age", "Runtime drift": "runtime drift",
              "Consistency failed": "inconsistent numbers"}


def _text(element) -> str:
    return " ".join(" ".join(element.itertext()).split())


def _indexed(session, hub):
    evidence.refresh_derived(session, hub)
    session.commit()
    return hub


def _aged(session, make_row):
    """Complete metadata (moderate), measured over a year ago: lowered to low."""
    return publish(session, make_row, age_days=OVER_A_YEAR), Tier.LOW


def _editorial_aged(session, make_row):
    """An editorial row over a year old: no lift, moderate for its metadata, then low."""
    return publish(session, make_row, kind=Kind.EDITORIAL, handle=None,
                   operator_key="editorial", age_days=OVER_A_YEAR), Tier.LOW


def _drifted(session, make_row):
    """One reproduction (moderate), 15% slower on a newer runtime: lowered to low."""
    hub = make_row(handle="origin", runtime_version="b4500")
    make_row(kind=Kind.REPRODUCTION, state=State.REPRODUCED, hub=hub, handle="later",
             runtime_version="b4600", runs=((250.0, 512, 85.0),) * 3, notes="newer build")
    return _indexed(session, hub), Tier.LOW


def _inconsistent(session, make_row):
    """Two reproductions (high), decode varying over 10% across them: capped at
    moderate."""
    hub = make_row(handle="origin")
    make_row(kind=Kind.REPRODUCTION, state=State.REPRODUCED, hub=hub, handle="same")
    make_row(kind=Kind.REPRODUCTION, state=State.REPRODUCED, hub=hub, handle="faster",
             runs=((250.0, 512, 125.0),) * 3, notes="another cooler")
    return _indexed(session, hub), Tier.MODERATE


@pytest.mark.parametrize(("build", "path"), [
    (_aged, "This row started at moderate and was lowered to low by age."),
    (_editorial_aged, "This row started at moderate and was lowered to low by age."),
    (_drifted, "This row started at moderate and was lowered to low by runtime drift."),
    (_inconsistent,
     "This row started at high and was lowered to moderate by inconsistent numbers."),
])
def test_the_tier_sentence_names_what_lowered_the_row(client, session, make_row, build, path):
    row, tier = build(session, make_row)
    page = client.get(f"/benchmarks/{row.id}").get_data(as_text=True)
    document = html5lib.parse(page)
    body = _text(document.find(f"{NS}body"))
    found = re.search(rf"Confidence tier: {tier.label} (.*?) The reasons for this row", body)
    assert found, body
    assert found.group(1) == f"{tier.explanation} {path}"
    movers = [reason.split(":")[0] for reason in _reason_lines(document)
              if "Tier lowered one step" in reason or "Tier capped" in reason]
    assert movers, "the case lowers the tier"
    for mover in movers:  # what the tier means, and how this row got it
        assert LOWERED_BY[mover] in tier.explanation, (mover, tier.explanation)
        assert LOWERED_BY[mover] in path
    assert f"Tier {tier.label} — {tier.explanation} {path}" in body
    # what the tier means, the same wherever the tier is shown: its hover text here and on
    # the catalog's row, the methodology page and the API's rule set
    meaning = html.escape(tier.explanation)
    assert f'class="tier {tier.css}" title="{meaning}"' in page
    catalog = client.get("/?stale=1").get_data(as_text=True)
    assert f'class="tier {tier.css}" title="{meaning}"' in catalog
    methodology = client.get("/resources/confidence-methodology").get_data(as_text=True)
    assert meaning in methodology
    rules = client.get("/api/v1/rules").get_json()
    assert {"value": tier.value, "label": tier.label,
            "explanation": tier.explanation} in rules["tiers"]


def _reason_lines(document) -> list[str]:
    for element in document.iter(f"{NS}ul"):
        if element.get("class") == "reasons":
            return [_text(item) for item in element.iter(f"{NS}li")]
    raise AssertionError("no list of reasons")


def test_a_low_row_lowered_by_age_says_it_stays_low(client, session, make_row):
    """Incomplete metadata (low) and over a year old: age cannot lower it further, and
    its reason says so instead of "Tier lowered one step"."""
    row = publish(session, make_row, age_days=OVER_A_YEAR, driver_version=None)
    document = html5lib.parse(client.get(f"/benchmarks/{row.id}").get_data(as_text=True))
    [age] = [reason for reason in _reason_lines(document) if reason.startswith("Age:")]
    assert "over 12 months" in age and "already low, the lowest, so it stays there" in age
    assert "Tier lowered one step" not in age
