"""A small catalog for the API's tests: public rows with reproductions, and every kind
of row and field that must never leave the site."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from webapp.extensions import db
from webapp.models import Submission
from webapp.services import accounts, evidence
from webapp.services.rules import Kind, State

REVIEWER_NAME = "reviewer-verity"
PRIVATE_HANDLE = "queued-handle-quimby"


@dataclass
class Catalog:
    hub: Submission  # public, reproduced by two handled operators and one anonymous one
    other: Submission  # public, on other hardware, no reproductions
    public: list[Submission] = field(default_factory=list)
    private: list[Submission] = field(default_factory=list)  # never to be seen
    clean_reproductions: list[Submission] = field(default_factory=list)


def publish(row: Submission) -> Submission:
    evidence.refresh_derived(db.session, row)
    db.session.flush()
    return row


@pytest.fixture
def catalog(app, make_row) -> Catalog:
    hub = publish(make_row(handle="origin-olga", url="https://olga.example/bench",
                           decided_at=None))
    other = publish(make_row(hardware="rtx-3090", handle="origin-olga",
                             runs=((300.0, 512, 80.0), (305.0, 512, 81.0), (295.0, 512, 79.0))))
    faster = ((240.0, 512, 104.0), (242.0, 512, 105.0), (238.0, 512, 103.0))
    clean = [
        make_row(kind=Kind.REPRODUCTION, state=State.REPRODUCED, hub=hub, handle="ringo",
                 runs=faster),
        make_row(kind=Kind.REPRODUCTION, state=State.REPRODUCED, hub=hub, handle="paula",
                 os_label="Fedora 41"),
        make_row(kind=Kind.REPRODUCTION, state=State.REPRODUCED, hub=hub),
    ]
    private = [
        make_row(state=State.QUEUED, handle=PRIVATE_HANDLE, ip_hash="a" * 64),
        make_row(state=State.REJECTED, handle="rejected-rex",
                 rejection_reason="Duplicate"),
        make_row(state=State.WITHDRAWN, handle="withdrawn-wanda"),
        make_row(kind=Kind.REPRODUCTION, state=State.QUEUED, hub=hub, handle="queued-quentin"),
        make_row(kind=Kind.REPRODUCTION, state=State.REJECTED, hub=hub,
                 handle="rejected-repro-ralph"),
        make_row(kind=Kind.REPRODUCTION, state=State.WITHDRAWN, hub=other,
                 handle="withdrawn-repro-wes"),
    ]
    publish(hub)
    accounts.add_reviewer(db.session, REVIEWER_NAME, "a long enough password 123")
    db.session.commit()
    return Catalog(hub=hub, other=other, public=[hub, other], private=private,
                   clean_reproductions=clean)
