"""badge_changes: when a public row's badge moved, for the Atom feed; submissions indexed
by the time they were decided (the feed's newly public rows)

Revision ID: b4d9e2f7a1c3
Revises: 7d3c9a1e5f20
Create Date: 2026-12-02 05:25:00

"""
from alembic import op
import sqlalchemy as sa

from webapp.models import UTCDateTime

revision = 'b4d9e2f7a1c3'
down_revision = '7d3c9a1e5f20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'badge_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('submission_id', sa.Integer(), nullable=False),
        sa.Column('old_badge', sa.String(length=30), nullable=False),
        sa.Column('new_badge', sa.String(length=30), nullable=False),
        sa.Column('changed_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('badge_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_badge_changes_changed_at'), ['changed_at'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_badge_changes_submission_id'), ['submission_id'],
                              unique=False)
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.create_index('ix_submissions_state_decided', ['state', 'decided_at', 'id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_index('ix_submissions_state_decided')
    with op.batch_alter_table('badge_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_badge_changes_submission_id'))
        batch_op.drop_index(batch_op.f('ix_badge_changes_changed_at'))
    op.drop_table('badge_changes')
