"""chart_summaries, filled from the existing rows: the hardware page's scatter and the model
page's bars read one summary per entry instead of every public row of it (10,000-23,000
rows at 100,000 rows)

Revision ID: d2c8e4a7b915
Revises: f3b7d1a9c4e2
Create Date: 2026-12-02 14:05:00

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision = 'd2c8e4a7b915'
down_revision = 'f3b7d1a9c4e2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('chart_summaries',
    sa.Column('subject', sa.String(length=16), nullable=False),
    sa.Column('reference_id', sa.Integer(), nullable=False),
    sa.Column('data', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('subject', 'reference_id', name=op.f('pk_chart_summaries'))
    )
    # The backfill is the same rebuild `flask refresh` runs, on this migration's connection.
    from webapp.services import summaries

    session = Session(bind=op.get_bind())
    summaries.rebuild_charts(session)
    session.close()


def downgrade():
    op.drop_table('chart_summaries')
