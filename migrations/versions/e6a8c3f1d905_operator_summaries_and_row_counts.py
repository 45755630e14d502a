"""operator_summaries and public_row_counts, filled from the existing rows: the operators
page and the /hardware and /models index pages read these instead of every row

Revision ID: e6a8c3f1d905
Revises: b4d9e2f7a1c3
Create Date: 2026-12-02 05:40:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.orm import Session

revision = 'e6a8c3f1d905'
down_revision = 'b4d9e2f7a1c3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('operator_summaries',
    sa.Column('operator_key', sa.String(length=80), nullable=False),
    sa.Column('handle', sa.String(length=40), nullable=False),
    sa.Column('reproductions', sa.Integer(), nullable=False),
    sa.Column('hubs', sa.Integer(), nullable=False),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.Column('latest_hub_ids', sa.String(length=120), nullable=False),
    sa.PrimaryKeyConstraint('operator_key', name=op.f('pk_operator_summaries'))
    )
    op.create_index('ix_operator_summaries_rank', 'operator_summaries',
                    [sa.text('hubs DESC'), 'handle', 'operator_key'], unique=False)
    op.create_table('public_row_counts',
    sa.Column('subject', sa.String(length=16), nullable=False),
    sa.Column('reference_id', sa.Integer(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('demo_rows', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('subject', 'reference_id', name=op.f('pk_public_row_counts'))
    )
    # The backfill is the same rebuild `flask refresh` runs, on this migration's connection.
    from webapp.services import summaries

    session = Session(bind=op.get_bind())
    summaries.rebuild_all(session)
    session.close()


def downgrade():
    op.drop_table('public_row_counts')
    op.drop_index('ix_operator_summaries_rank', table_name='operator_summaries')
    op.drop_table('operator_summaries')
