"""/feed.atom: rows that became public and badge changes, read by a real feed parser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import feedparser
import pytest

from webapp.models import BadgeChange
from webapp.services import evidence, moderation
from webapp.services.rules import Kind, State

NOW = datetime.now(UTC)


def publish(session, make_row, decided_days_ago=1, **columns):
    row = make_row(decided_at=NOW - timedelta(days=decided_days_ago), **columns)
    evidence.refresh_derived(session, row)
    session.commit()
    return row


def read(client, url="/feed.atom", **kwargs):
    response = client.get(url, **kwargs)
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    parsed = feedparser.parse(response.get_data())
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed, response


def reproduce(session, hub, handle, *, state=State.REPRODUCED):
    """A reviewer marks a reproduction clean: the hub's badge is recomputed (and recorded)."""
    from tests.factories import RowFactory

    repro = RowFactory()(kind=Kind.REPRODUCTION, state=State.QUEUED, hub=hub, handle=handle)
    moderation.mark_reproduced(session, repro, actor="reviewer:1", now=NOW)
    session.commit()
    return repro


def test_feed_is_valid_atom_with_newly_public_rows_newest_first(client, session, make_row):
    older = publish(session, make_row, decided_days_ago=3)
    newer = publish(session, make_row, decided_days_ago=1, hardware="rtx-3090")
    make_row(state=State.QUEUED, handle="queued-one")
    make_row(state=State.REJECTED, handle="rejected-one")
    session.commit()
    parsed, response = read(client)
    feed = parsed.feed
    assert feed.title.startswith("Trustbench")
    assert feed.id.startswith("tag:localhost,")
    assert any(link.rel == "self" and link.href == "http://localhost/feed.atom"
               for link in feed.links)
    assert feed.updated_parsed is not None
    links = [entry.link for entry in parsed.entries]
    assert links == [f"http://localhost/benchmarks/{newer.id}",
                     f"http://localhost/benchmarks/{older.id}"]
    assert all(entry.id.startswith("tag:localhost,2026:") for entry in parsed.entries)
    assert all(entry.updated_parsed and entry.summary for entry in parsed.entries)
    assert parsed.entries[0].title.startswith(f"New: #{newer.id} ")
    assert "queued-one" not in response.get_data(as_text=True)
    assert "rejected-one" not in response.get_data(as_text=True)


def test_entry_ids_stay_the_same_between_requests(client, session, make_row):
    publish(session, make_row)
    first, _ = read(client)
    publish(session, make_row, decided_days_ago=0)
    second, _ = read(client)
    assert first.entries[0].id in [entry.id for entry in second.entries]
    assert len(second.entries) == 2


def test_badge_changes_up_and_down_are_entries(client, session, make_row):
    hub = publish(session, make_row, handle="hub-owner", decided_days_ago=5)
    repro = reproduce(session, hub, "second-operator")
    assert hub.derived_badge == "reproduced"
    moderation.revise(session, repro, State.REJECTED, actor="reviewer:1", now=NOW,
                      reason="The runs were from another model.")
    session.commit()
    changes = session.query(BadgeChange).filter_by(submission_id=hub.id).all()
    assert [(c.old_badge, c.new_badge) for c in changes] == [
        ("community-submitted", "reproduced"), ("reproduced", "community-submitted")]
    parsed, _ = read(client)
    terms = [entry.tags[0].term for entry in parsed.entries]
    assert terms == ["badge-down", "badge-up", "published"]
    assert "Badge lowered" in parsed.entries[0].title
    assert "Badge raised" in parsed.entries[1].title
    assert "Reproduced" in parsed.entries[1].title
    assert len({entry.id for entry in parsed.entries}) == 3


def test_an_entry_never_changes_under_the_same_updated_time(client, session, make_row):
    hub = publish(session, make_row, handle="hub-owner", decided_days_ago=5)
    before, _ = read(client)
    (published,) = before.entries
    assert "Badge: Community-submitted." in published.summary
    reproduce(session, hub, "second-operator")
    after, _ = read(client)
    assert [entry.tags[0].term for entry in after.entries] == ["badge-up", "published"]
    seen = {entry.id: entry for entry in before.entries}
    for entry in after.entries:
        if entry.id in seen and (entry.title, entry.summary) != (seen[entry.id].title,
                                                                 seen[entry.id].summary):
            assert entry.updated_parsed > seen[entry.id].updated_parsed, entry.id
    # The "New" entry says what was published; the move is the badge entry's to say.
    assert after.entries[1].summary == published.summary
    assert "is now Reproduced" in after.entries[0].title
    assert after.feed.updated_parsed == after.entries[0].updated_parsed


def test_catalog_filters_apply_and_bad_ones_are_refused(client, session, make_row):
    on_4090 = publish(session, make_row, hardware="rtx-4090")
    on_3090 = publish(session, make_row, hardware="rtx-3090")
    parsed, _ = read(client, "/feed.atom?hardware=rtx-4090")
    assert [entry.link for entry in parsed.entries] == [
        f"http://localhost/benchmarks/{on_4090.id}"]
    assert "hardware rtx-4090" in parsed.feed.title
    assert any(link.rel == "self" and link.href.endswith("/feed.atom?hardware=rtx-4090")
               for link in parsed.feed.links)
    parsed, _ = read(client, "/feed.atom?hardware=rtx-3090")
    assert [entry.link for entry in parsed.entries] == [
        f"http://localhost/benchmarks/{on_3090.id}"]
    # a feed has nowhere to show the catalog's notice (tests/test_open_data_filters.py)
    refused = client.get("/feed.atom?hardware=not-a-gpu&badge=%3Cgold%3E&tier=9")
    assert refused.status_code == 400 and refused.mimetype == "application/problem+json"


def test_feed_is_bounded(client, session, make_row):
    for number in range(53):
        make_row(decided_at=NOW - timedelta(minutes=number))
    session.flush()
    for row in session.query(evidence.Submission).all():
        evidence.refresh_derived(session, row)
    session.commit()
    parsed, _ = read(client)
    assert len(parsed.entries) == 50


def test_text_typed_by_operators_is_escaped(client, session, make_row):
    publish(session, make_row, model="other", other_model="<b>Bold & </b>]]>")
    parsed, response = read(client)
    assert "<b>" not in response.get_data(as_text=True)
    assert "<b>Bold & </b>]]>" in parsed.entries[0].title


def test_a_character_xml_forbids_stored_in_a_name_leaves_feed_and_badge_readable(
        client, session, make_row):
    """The forms refuse U+FFFE, U+FFFF and control characters; one stored before they did
    is left out of the XML rather than break the site-wide feed and the row's badge."""
    import xml.etree.ElementTree as ElementTree

    row = publish(session, make_row, model="other", other_model="Non\ufffeChar\uffffModel\x0b")
    parsed, _ = read(client)
    assert "NonCharModel" in parsed.entries[0].title
    badge = client.get(f"/benchmarks/{row.id}/badge.svg")
    assert badge.status_code == 200
    ElementTree.fromstring(badge.get_data())  # well-formed


def test_empty_feed_is_still_valid(client):
    parsed, _ = read(client)
    assert parsed.entries == []


@pytest.mark.parametrize("url", ["/feed.atom", "/feed.atom?hardware=rtx-4090"])
def test_etag_gives_304(client, session, make_row, url):
    publish(session, make_row)
    first = client.get(url)
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert first.cache_control.public and first.cache_control.max_age


def test_pages_link_the_feed(client, session, make_row):
    publish(session, make_row)
    page = client.get("/").get_data(as_text=True)
    assert 'type="application/atom+xml"' in page and "/feed.atom" in page
