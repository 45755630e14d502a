"""the stored badge and tier index recomputed for every public row: handles that look
alike only in some capitalisation of their case-folded keys ("WiII", two capital I's,
and "Will": keys "wiii" and "will") now name one operator, so such a re-run of a row's
own operator, or a second spelling of one reproducer, no longer lifts its badge; and the
operators' summary rebuilt, which no longer credits such a re-run to its look-alike.
Nothing in the schema changes.

Revision ID: e4b8c2d6f1a7
Revises: d9f2b6e4a3c1
Create Date: 2026-12-04 21:45:00

"""
from alembic import op

revision = 'e4b8c2d6f1a7'
down_revision = 'd9f2b6e4a3c1'
branch_labels = None
depends_on = None


def upgrade():
    from sqlalchemy.orm import Session

    from webapp.services import evidence, summaries  # what `flask refresh` runs

    evidence.refresh_all_on(op.get_bind())
    session = Session(bind=op.get_bind())
    summaries.rebuild_operators(session)
    session.flush()
    session.close()


def downgrade():
    pass  # the schema is unchanged; older code's `flask refresh` recomputes in its rules
