"""Runtime drift on the pages (SPEC §6, factor 5): a reproduction on a newer runtime
that diverges by more than 10% lowers the tier one step, and a release counts as newer
than its own pre-releases, a post-release as newer than its release."""

from __future__ import annotations

import re

import pytest

from tests.factories import listed_ids
from webapp.services import evidence
from webapp.services.rules import Kind, State, Tier

SHOWN_TIER = re.compile(r'<p class="markers">.*?class="tier tier-([a-z-]+)"', re.S)
SLOWER = ((250.0, 512, 85.0),) * 3  # decode 15% below the original's 100 tok/s


@pytest.fixture
def drifting(session, make_row):
    """A row with complete metadata (moderate) and one clean reproduction by another
    operator, 15% slower on the runtime version given; its index written as a decision
    writes it."""
    def build(hub_version: str, repro_version: str, runtime: str = "ollama"):
        hub = make_row(handle="origin", runtime=runtime, runtime_version=hub_version)
        make_row(kind=Kind.REPRODUCTION, state=State.REPRODUCED, hub=hub, handle="later",
                 runtime=runtime, runtime_version=repro_version, runs=SLOWER,
                 notes="Run on the runtime's next version")
        evidence.refresh_derived(session, hub)
        session.commit()
        return hub
    return build


def _shown_tier(client, hub_id: int) -> tuple[Tier, str]:
    page = client.get(f"/benchmarks/{hub_id}").get_data(as_text=True)
    return Tier(SHOWN_TIER.search(page).group(1)), page


def _listed_under(client, hub_id: int) -> list[Tier]:
    return [tier for tier in Tier
            if hub_id in listed_ids(client.get(f"/?tier={tier.value}").data)]


@pytest.mark.parametrize(("hub_version", "repro_version", "runtime"), [
    ("0.6.0-rc1", "0.6.0", "ollama"),
    ("0.6.0-rc1", "0.6.0-rc2", "ollama"),
    ("0.6.0rc1", "0.6.0", "ollama"),
    ("0.6.0-rc.1", "0.6.0", "ollama"),
    ("0.6.4rc1", "0.6.4", "vllm"),
    ("0.6.4", "0.6.4.post1", "vllm"),
    # already right before pre- and post-releases were read
    ("0.5.9", "0.5.10", "ollama"),
    ("b999", "b1000", "llama-cpp"),
    ("0.6.0-rc1", "0.6.1", "ollama"),
])
def test_a_newer_runtime_that_diverges_lowers_the_tier(client, drifting, hub_version,
                                                       repro_version, runtime):
    hub = drifting(hub_version, repro_version, runtime)
    tier, page = _shown_tier(client, hub.id)
    assert (f"Runtime drift: a reproduction on the newer runtime {repro_version} "
            f"(original: {hub_version}) diverges by 15%") in page
    assert tier is Tier.LOW  # moderate (one independent operator), lowered one step
    assert _listed_under(client, hub.id) == [Tier.LOW]


@pytest.mark.parametrize(("hub_version", "repro_version"), [
    ("0.6.0", "0.6.0-rc1"),  # an older pre-release
    ("0.6.4.post1", "0.6.4"),
    ("0.6.0", "0.6.0-nightly"),  # a suffix nobody can order: not comparable
    ("0.6.0", "0.6.0-1"),
])
def test_an_older_or_incomparable_runtime_is_no_drift(client, drifting, hub_version,
                                                      repro_version):
    hub = drifting(hub_version, repro_version)
    tier, page = _shown_tier(client, hub.id)
    assert (f"Runtime drift: no reproduction on a runtime newer than {hub_version} diverges"
            in page)
    assert tier is Tier.MODERATE
    assert _listed_under(client, hub.id) == [Tier.MODERATE]
