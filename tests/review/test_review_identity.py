"""What a reviewer is shown about who a submission comes from and where it would land:
look-alike handles beside the original's (SPEC §11), and runs outside tolerance that no
ring holds."""

from __future__ import annotations

from webapp.services.rules import NOTED_LABEL, Kind, State

RELATED_RUNS = ((250.0, 512, 85.0), (252.0, 512, 85.5), (249.0, 512, 84.5))  # 15% slower


def test_a_related_band_run_is_told_to_land_in_no_ring(reviewer_client, make_row, session):
    hub = make_row(handle="origin")
    related = make_row(kind=Kind.REPRODUCTION, state=State.QUEUED, hub=hub, handle="bob",
                       os_label="Fedora 41", runs=RELATED_RUNS, notes="Power limit 300 W.")
    within = make_row(kind=Kind.REPRODUCTION, state=State.QUEUED, hub=hub, handle="carol",
                      os_label="Fedora 41")
    session.commit()
    page = reviewer_client.get(f"/review/submissions/{related.id}").get_data(as_text=True)
    assert "lands in no ring" in page and NOTED_LABEL in page
    assert "It would land in the" not in page
    page = reviewer_client.get(f"/review/submissions/{within.id}").get_data(as_text=True)
    assert "It would land in the" in page and "Outer ring" in page


def test_a_look_alike_handle_is_flagged_with_both_spellings(reviewer_client, make_row,
                                                            session):
    hub = make_row(handle="origin")
    sibling = make_row(kind=Kind.REPRODUCTION, state=State.REPRODUCED, hub=hub, handle="bob1")
    posing = make_row(kind=Kind.REPRODUCTION, state=State.QUEUED, hub=hub,
                      handle="\u043erigin", operator_key="\u043erigin")  # Cyrillic o
    near_sibling = make_row(kind=Kind.REPRODUCTION, state=State.QUEUED, hub=hub,
                            handle="bobl", operator_key="bobl")
    honest = make_row(kind=Kind.REPRODUCTION, state=State.QUEUED, hub=hub, handle="carol",
                      operator_key="carol")
    session.commit()
    queue = reviewer_client.get("/review/?flag=look-alike-handle").get_data(as_text=True)
    assert f"#{posing.id}<" in queue and f"#{near_sibling.id}<" in queue
    assert f"#{honest.id}<" not in queue
    page = reviewer_client.get(f"/review/submissions/{posing.id}").get_data(as_text=True)
    assert "\u043erigin" in page and "“origin”" in page
    assert "U+043E" in page and "U+006F" in page  # which characters differ, spelled out
    assert f"#{hub.id}" in page
    page = reviewer_client.get(f"/review/submissions/{near_sibling.id}").get_data(as_text=True)
    assert "bobl" in page and "bob1" in page and f"#{sibling.id}" in page
