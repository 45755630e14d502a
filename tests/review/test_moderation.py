"""The decision services: transitions, audit events, fragments, editorial rows, links,
the queue and the side-by-side comparison."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from webapp.models import AuditEvent, FeedbackNote, Submission
from webapp.services import (
    editorial,
    evidence,
    feedback_triage,
    moderation,
    operator_links,
    review_compare,
    review_queue,
)
from webapp.services.rules import REJECTION_REASONS, Badge, Band, Kind, Ring, State

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
ACTOR = "reviewer:alice"
CLOSE_RUNS = ((251.0, 512, 99.0), (250.0, 512, 100.0), (249.0, 512, 101.0))


def events(session, row) -> list[AuditEvent]:
    return list(session.scalars(
        select(AuditEvent).where(AuditEvent.submission_id == row.id).order_by(AuditEvent.id)))


def badge_of(session, hub) -> Badge:
    return evidence.assess_hubs(session, [hub], NOW)[hub.id].badge


@pytest.fixture
def hub(make_row):
    return make_row(handle="origin")


@pytest.fixture
def repro_of(make_row, hub):
    def build(**columns):
        columns.setdefault("runs", CLOSE_RUNS)
        return make_row(kind=Kind.REPRODUCTION, state=State.QUEUED, hub=hub, **columns)
    return build


def test_approve_public_goes_live_with_an_audit_event(session, make_row):
    row = make_row(state=State.QUEUED)
    event = moderation.approve_public(session, row, actor=ACTOR, now=NOW)
    assert row.state == State.APPROVED and row.decided_at == NOW
    assert (event.actor, event.from_state, event.to_state) == (ACTOR, "queued", "approved-public")
    assert event.created_at == NOW
    assert row.derived_badge == Badge.COMMUNITY


def test_a_reproduction_approved_public_fragments_into_its_own_row(session, hub, repro_of):
    repro = repro_of()
    event = moderation.approve_public(session, repro, actor=ACTOR, now=NOW)
    assert repro.state == State.APPROVED
    assert repro.hub_id == hub.id  # kept as the "related to" link
    assert repro.derived_badge == Badge.COMMUNITY  # a public row of its own
    assert f"#{hub.id}" in event.reason
    assert badge_of(session, hub) == Badge.COMMUNITY  # not evidence for the hub


def test_mark_reproduced_lifts_the_badge_and_a_second_operator_more(session, hub, repro_of):
    first = repro_of(handle="bea")
    second = repro_of()  # anonymous: a distinct operator
    moderation.mark_reproduced(session, first, actor=ACTOR, now=NOW)
    assert first.state == State.REPRODUCED
    assert hub.derived_badge == Badge.REPRODUCED
    assert badge_of(session, hub) == Badge.REPRODUCED
    moderation.mark_reproduced(session, second, actor=ACTOR, now=NOW)
    assert badge_of(session, hub) == Badge.INDEPENDENT
    assert hub.derived_badge == Badge.INDEPENDENT and hub.derived_repro_count == 2

    moderation.revise(session, second, State.REJECTED, actor=ACTOR, now=NOW,
                      reason=f"Duplicate of #{first.id}")
    assert badge_of(session, hub) == Badge.REPRODUCED
    assert hub.derived_badge == Badge.REPRODUCED
    history = events(session, second)
    assert [(e.from_state, e.to_state) for e in history] == [
        ("queued", "reproduced"), ("reproduced", "rejected")]
    assert history[-1].reason.startswith("Duplicate")


def test_the_hubs_own_operator_does_not_count(session, hub, repro_of):
    own = repro_of(handle=" Origin ", operator_key="origin")
    moderation.mark_reproduced(session, own, actor=ACTOR, now=NOW)
    assert badge_of(session, hub) == Badge.COMMUNITY


def test_only_reproductions_can_be_marked_reproduced(session, make_row):
    row = make_row(state=State.QUEUED)
    with pytest.raises(moderation.TransitionError, match="Only a reproduction"):
        moderation.mark_reproduced(session, row, actor=ACTOR, now=NOW)
    assert row.state == State.QUEUED


def test_not_a_reproduction_band_cannot_be_marked_reproduced(session, repro_of):
    far = repro_of(runs=((400.0, 512, 60.0),) * 3)
    with pytest.raises(moderation.TransitionError, match="by 60%: not a reproduction"):
        moderation.mark_reproduced(session, far, actor=ACTOR, now=NOW)


def test_a_related_band_reproduction_is_the_reviewers_call(session, hub, repro_of):
    related = repro_of(runs=((290.0, 512, 85.0),) * 3)
    assert moderation.compare_numbers(hub, related).band is Band.RELATED
    moderation.mark_reproduced(session, related, actor=ACTOR, now=NOW)
    assert related.state == State.REPRODUCED


def test_a_different_matching_set_cannot_be_marked_reproduced(session, repro_of, make_row):
    other_hw = repro_of(hardware="rtx-3090")
    with pytest.raises(moderation.TransitionError, match="matching set differs"):
        moderation.mark_reproduced(session, other_hw, actor=ACTOR, now=NOW)


def test_a_non_public_hub_cannot_receive_evidence(session, hub, repro_of):
    repro = repro_of()
    moderation.revise(session, hub, State.REJECTED, actor=ACTOR, now=NOW, reason="Out of scope")
    with pytest.raises(moderation.TransitionError, match="not public"):
        moderation.mark_reproduced(session, repro, actor=ACTOR, now=NOW)


def test_reject_needs_a_one_line_reason_of_at_most_160(session, make_row):
    row = make_row(state=State.QUEUED)
    for reason in ("", "   "):
        with pytest.raises(moderation.TransitionError, match="needs a one-line reason"):
            moderation.reject(session, row, actor=ACTOR, now=NOW, reason=reason)
    with pytest.raises(moderation.TransitionError, match="at most 160"):
        moderation.reject(session, row, actor=ACTOR, now=NOW, reason="x" * 161)
    assert row.state == State.QUEUED and events(session, row) == []
    moderation.reject(session, row, actor=ACTOR, now=NOW, reason="Out of\nscope  ")
    assert row.rejection_reason == "Out of scope"
    assert events(session, row)[-1].reason == "Out of scope"


def test_revising_needs_a_reason_and_a_decided_row(session, make_row):
    row = make_row(state=State.QUEUED)
    with pytest.raises(moderation.TransitionError, match="Only a decided submission"):
        moderation.revise(session, row, State.APPROVED, actor=ACTOR, now=NOW, reason="x")
    moderation.reject(session, row, actor=ACTOR, now=NOW, reason=REJECTION_REASONS[0])
    with pytest.raises(moderation.TransitionError, match="needs a reason"):
        moderation.revise(session, row, State.APPROVED, actor=ACTOR, now=NOW, reason=" ")
    with pytest.raises(moderation.TransitionError, match="already"):
        moderation.revise(session, row, State.REJECTED, actor=ACTOR, now=NOW, reason="again")
    moderation.revise(session, row, State.APPROVED, actor=ACTOR, now=NOW,
                      reason="The runtime version was in the notes after all.")
    assert row.state == State.APPROVED and row.rejection_reason is None


def test_revision_targets(make_row, hub, repro_of, session):
    assert moderation.revision_targets(hub) == (State.REJECTED,)
    repro = repro_of()
    assert moderation.revision_targets(repro) == ()
    moderation.mark_reproduced(session, repro, actor=ACTOR, now=NOW)
    assert moderation.revision_targets(repro) == (State.APPROVED, State.REJECTED)


def test_withdrawn_rows_cannot_be_decided(session, make_row):
    row = make_row(state=State.QUEUED)
    moderation.transition(session, row, State.WITHDRAWN, actor=moderation.SUBMITTER, now=NOW)
    with pytest.raises(moderation.TransitionError, match="cannot become"):
        moderation.approve_public(session, row, actor=ACTOR, now=NOW)


def test_publish_editorial(session, make_row):
    reference = make_row()
    columns = {name: getattr(reference, name) for name in (
        "model_id", "hardware_id", "hardware_count", "quant_id", "runtime_id",
        "runtime_version", "driver_version", "os_label", "prompt_tokens", "max_tokens",
        "quant_provider", "vram_peak_mib")}
    runs = [editorial.EditorialRun(240.0, 512, 102.0), editorial.EditorialRun(250.0, 512, 100.0),
            editorial.EditorialRun(245.0, 500, 101.0)]
    row = editorial.publish_editorial(session, columns=columns, runs=runs, actor=ACTOR, now=NOW)
    assert row.kind == Kind.EDITORIAL and row.state == State.APPROVED
    assert (row.ttft_ms, row.decode_tps, row.tokens_generated) == (245.0, 101.0, 512)
    assert row.operator_key == editorial.EDITORIAL_OPERATOR
    assert row.derived_badge == Badge.EDITORIAL and row.run_count == 3
    [event] = events(session, row)
    assert (event.from_state, event.to_state, event.actor) == (None, "approved-public", ACTOR)


def test_linking_anonymous_operators_lowers_the_badge(session, hub, repro_of):
    first, second = repro_of(), repro_of()
    for row in (first, second):
        moderation.mark_reproduced(session, row, actor=ACTOR, now=NOW)
    assert badge_of(session, hub) == Badge.INDEPENDENT
    key = operator_links.link_operators(session, [second, first], actor=ACTOR, now=NOW,
                                        reason="Same machine, same day")
    assert first.operator_key == second.operator_key == key
    assert badge_of(session, hub) == Badge.REPRODUCED
    assert hub.derived_badge == Badge.REPRODUCED
    [event] = [e for e in events(session, second) if e.from_state == e.to_state]
    assert "Linked as one operator" in event.reason and "Same machine" in event.reason
    with pytest.raises(moderation.TransitionError, match="already count as one"):
        operator_links.link_operators(session, [first, second], actor=ACTOR, now=NOW)
    with pytest.raises(moderation.TransitionError, match="at least two"):
        operator_links.link_operators(session, [first], actor=ACTOR, now=NOW)


def test_a_link_note_with_a_direction_override_is_refused(session, repro_of):
    # the audit log shows the note as written: "\u202e" would reorder what reviewers read
    first, second = repro_of(), repro_of()
    with pytest.raises(moderation.TransitionError, match="text-direction"):
        operator_links.link_operators(session, [first, second], actor=ACTOR, now=NOW,
                                      reason="same \u202eenihcam")
    assert first.operator_key != second.operator_key


def test_linking_prefers_a_handle_as_the_shared_key(session, repro_of):
    anonymous, named = repro_of(), repro_of(handle="Zed")
    assert operator_links.link_operators(session, [anonymous, named], actor=ACTOR, now=NOW) == "zed"


def test_side_by_side(session, hub, repro_of):
    repro = repro_of(runtime="ollama", runtime_version="0.5.7", handle="ORIGIN",
                     operator_key="origin", ip_hash="f" * 64, ip_day=date(2025, 6, 1))
    sibling = repro_of(ip_hash="f" * 64, ip_day=date(2025, 6, 1))
    repro_of(ip_hash="f" * 64, ip_day=date(2025, 5, 31))  # another day: no warning
    view = review_compare.side_by_side(session, repro)
    assert view.matching_ok
    engine = view.matching[-1]
    assert engine.label == "Runtime engine family" and engine.matches
    assert "one engine family" in engine.note
    assert view.ring is Ring.OUTER  # runtime version differs
    assert [d.label for d in view.environment_differences] == ["Runtime version"]
    assert view.comparison.band is Band.WITHIN
    assert view.metrics[1].divergence_label == "0%"
    assert view.same_operator
    by_other = {signal.other.id: signal for signal in view.signals}
    assert by_other[hub.id].shared == ("handle",) and by_other[hub.id].linked
    assert by_other[sibling.id].shared == ("same-day IP hash",)
    assert not by_other[sibling.id].linked
    assert "link them" in by_other[sibling.id].message
    assert len(view.signals) == 2


def test_queue_lists_queued_oldest_first_with_counts_and_filters(session, make_row, hub, repro_of):
    newer = make_row(state=State.QUEUED, age_days=1)
    older = make_row(state=State.QUEUED, age_days=5)
    flagged = make_row(state=State.QUEUED, age_days=3, runs=((250.0, 512, 900.0),) * 3)
    repro = repro_of(age_days=2)
    make_row(state=State.REJECTED, rejection_reason="Duplicate")
    listing = review_queue.queue(session)
    assert [item.row.id for item in listing.items] == [older.id, flagged.id, repro.id, newer.id]
    assert listing.counts[Kind.FRESH] == 3 and listing.counts[Kind.REPRODUCTION] == 1
    assert listing.total == 4
    assert [i.row.id for i in review_queue.queue(session, kind=Kind.REPRODUCTION).items] == [
        repro.id]
    ceiling = review_queue.queue(session, flag="exceeds-ceiling")
    assert [i.row.id for i in ceiling.items] == [flagged.id]
    [flag] = ceiling.items[0].reject_flags
    assert "900" in flag.rejection_reason and len(flag.rejection_reason) <= 160
    assert [i.row.id for i in review_queue.queue(session, flag="any").items] == [flagged.id]
    paged = review_queue.queue(session, per_page=3, page=2)
    assert [i.row.id for i in paged.items] == [newer.id] and paged.pages == 2


def test_feedback_resolution_records_who_and_when(session, hub, reviewer):
    note = FeedbackNote(submission_id=hub.id, kind="stale", message="Old driver")
    session.add(note)
    session.flush()
    with pytest.raises(feedback_triage.TriageError, match="needs a note"):
        feedback_triage.resolve_feedback(session, note, reviewer=reviewer, now=NOW, resolution=" ")
    feedback_triage.resolve_feedback(session, note, reviewer=reviewer, now=NOW,
                                     resolution="Asked for a re-run")
    assert (note.status, note.resolved_by_id, note.resolved_at) == ("resolved", reviewer.id, NOW)
    with pytest.raises(feedback_triage.TriageError, match="resolved already"):
        feedback_triage.resolve_feedback(session, note, reviewer=reviewer, now=NOW, resolution="x")


def test_actor_labels_hide_reviewer_names_unless_allowed():
    assert moderation.actor_label(ACTOR, show_reviewer_names=False) == "A reviewer"
    assert moderation.actor_label(ACTOR, show_reviewer_names=True) == "Reviewer alice"
    assert moderation.actor_label("submitter", show_reviewer_names=False) == "The submitter"


def test_a_decision_rolls_back_with_its_audit_event(app, session, make_row):
    row = make_row(state=State.QUEUED)
    session.commit()
    moderation.approve_public(session, row, actor=ACTOR, now=NOW)
    session.rollback()
    assert session.get(Submission, row.id).state == State.QUEUED
    assert events(session, row) == []
