"""the stored tier index and chart summaries recomputed for every public row: age now
counts calendar days (UTC) rather than whole 24-hour days, so the moments at which time alone moves a tier
(derived_lift_until, the 12-month edge) are the starts of days; and a row's own operator's
re-runs no longer count for age, consistency or drift (derived_newest_at, the tiers).
The chart summaries are rebuilt too: their dots and bars are marked above the ceiling as
the rows' own pages flag them (over 1.10x, declaring nothing that exempts them).
Nothing in the schema changes.

Revision ID: a7c2e9f4b810
Revises: b1e7c3d9f046
Create Date: 2026-12-04 15:30:00

"""
from alembic import op
from sqlalchemy.orm import Session

revision = 'a7c2e9f4b810'
down_revision = 'b1e7c3d9f046'
branch_labels = None
depends_on = None


def _refresh():
    # The same recomputation `flask refresh` runs, on this migration's connection.
    from webapp.services import evidence, summaries

    session = Session(bind=op.get_bind())
    evidence.refresh_all(session)
    summaries.rebuild_charts(session)
    session.flush()
    session.close()


def upgrade():
    _refresh()


def downgrade():
    # The older code reads the index as it did: after downgrading the code, `flask
    # refresh` recomputes it in the older rules. Nothing to undo in the schema.
    pass
