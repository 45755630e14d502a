"""chart_summaries keep the charts drawn: the hardware scatter's dots (at most 200, their
positions, sizes, paths and titles), the model's bars (at most 20), the first lines of each
chart's data table and then the whole table; rebuilt here from the existing rows, since
the stored shape changed (the table's columns did not)

Revision ID: a5d3f8c1e702
Revises: d2c8e4a7b915
Create Date: 2026-12-02 18:00:00

"""
from alembic import op
from sqlalchemy.orm import Session

revision = 'a5d3f8c1e702'
down_revision = 'd2c8e4a7b915'
branch_labels = None
depends_on = None


def _rebuild():
    # The same rebuild `flask refresh` runs, on this migration's connection.
    from webapp.services import summaries

    session = Session(bind=op.get_bind())
    summaries.rebuild_charts(session)
    session.close()


def upgrade():
    _rebuild()


def downgrade():
    # The older code reads its own shape: after downgrading the code, `flask refresh`
    # rebuilds the summaries in it. Nothing to undo in the schema.
    pass
