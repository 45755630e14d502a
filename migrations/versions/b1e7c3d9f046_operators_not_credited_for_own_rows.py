"""operator_summaries no longer credit an operator with re-runs of their own row (a
reproduction whose operator is the hub's): rebuilt here from the existing rows, since
what the summary counts changed (its columns did not)

Revision ID: b1e7c3d9f046
Revises: c4f1a8e6d237
Create Date: 2026-12-04 04:00:00

"""
from alembic import op
from sqlalchemy.orm import Session

revision = 'b1e7c3d9f046'
down_revision = 'c4f1a8e6d237'
branch_labels = None
depends_on = None


def _rebuild():
    # The same rebuild `flask refresh` runs for the operators, on this migration's
    # connection.
    from webapp.services import summaries

    session = Session(bind=op.get_bind())
    summaries.rebuild_operators(session)
    session.flush()
    session.close()


def upgrade():
    _rebuild()


def downgrade():
    # The older code counts as it did: after downgrading the code, `flask refresh`
    # rebuilds the summaries in it. Nothing to undo in the schema.
    pass
