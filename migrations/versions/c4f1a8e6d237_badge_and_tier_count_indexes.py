"""submissions: the badge and tier filters counted from an index alone

The catalog counts a filtered selection once per data version and minute in each worker.
A badge filter was counted through ix_submissions_state_newest, reading every fresh row
to test its badge, and a tier filter the same way (the tier shown is a pick among three
stored tiers by date, services.listing.effective_tier, which no index could lead with):
at 100,000 rows 0.3-1.6 s for the first visitor of such a page each minute. Now the badge
index holds what the reference filters' indexes hold (decode order, id, the stale edge,
the four filters), ix_submissions_state_newest the badge and every column the tier's
pick reads, and ix_submissions_state_tier, which no query could use, is gone.

Revision ID: c4f1a8e6d237
Revises: b8e2d4f6a913
Create Date: 2026-12-03 21:40:00

"""
from alembic import op

revision = 'c4f1a8e6d237'
down_revision = 'b8e2d4f6a913'
branch_labels = None
depends_on = None

FILTER_IDS = ['model_id', 'hardware_id', 'quant_id', 'runtime_id']
BADGE = ['state', 'derived_badge', 'decode_tps', 'id', 'derived_newest_at', *FILTER_IDS]
NEWEST = ['state', 'derived_newest_at', 'derived_badge', 'derived_lift_until', 'derived_tier',
          'derived_tier_aged', 'derived_tier_lifted_off']
# As the revisions before this one left them.
OLD_BADGE = ['state', 'derived_badge', 'decode_tps']
OLD_NEWEST = ['state', 'derived_newest_at']
OLD_TIER = ['state', 'derived_tier', 'decode_tps']


def upgrade():
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_index('ix_submissions_state_tier')
        batch_op.drop_index('ix_submissions_state_badge')
        batch_op.create_index('ix_submissions_state_badge', BADGE, unique=False)
        batch_op.drop_index('ix_submissions_state_newest')
        batch_op.create_index('ix_submissions_state_newest', NEWEST, unique=False)
    # New indexes without statistics can mislead SQLite's planner (see c71e5a9d3b28).
    op.execute("ANALYZE submissions")


def downgrade():
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_index('ix_submissions_state_newest')
        batch_op.create_index('ix_submissions_state_newest', OLD_NEWEST, unique=False)
        batch_op.drop_index('ix_submissions_state_badge')
        batch_op.create_index('ix_submissions_state_badge', OLD_BADGE, unique=False)
        batch_op.create_index('ix_submissions_state_tier', OLD_TIER, unique=False)
    op.execute("ANALYZE submissions")
