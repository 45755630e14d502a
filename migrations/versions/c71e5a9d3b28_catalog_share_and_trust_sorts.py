"""submissions: the catalog's share-of-ceiling and trust sort columns, with their indexes,
backfilled for the public rows (`flask refresh` recomputes them through the services)

Revision ID: c71e5a9d3b28
Revises: e6a8c3f1d905
Create Date: 2026-12-02 05:50:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'c71e5a9d3b28'
down_revision = 'e6a8c3f1d905'
branch_labels = None
depends_on = None

# The backfill in portable SQL (SQLite and PostgreSQL), the same rules as
# services.evidence.trust_rank (Badge.rank * 4 + Tier.rank) and ceiling_share
# (decode over bandwidth x summed devices / bytes per token; 0 with no ceiling).
TRUST_RANK = """
UPDATE submissions SET derived_trust_rank =
  (CASE derived_badge WHEN 'reproduced' THEN 1 WHEN 'independently-reproduced' THEN 2
   ELSE 0 END) * 4
  + (CASE derived_tier WHEN 'moderate' THEN 1 WHEN 'high' THEN 2 WHEN 'very-high' THEN 3
     ELSE 0 END)
WHERE state = 'approved-public'
"""
CEILING_SHARE = """
UPDATE submissions SET derived_ceiling_share = COALESCE(
  decode_tps / (
    (SELECT h.bandwidth_gb_s FROM hardware h WHERE h.id = submissions.hardware_id)
    * (CASE WHEN tensor_parallel AND hardware_count >= 2 THEN hardware_count ELSE 1 END)
    * 1e9
    / ((SELECT m.active_params_b FROM model_variants m WHERE m.id = submissions.model_id)
       * 1e9
       * (SELECT q.bits_per_weight FROM quants q WHERE q.id = submissions.quant_id)
       / 8.0)
  ), 0)
WHERE state = 'approved-public'
"""


def upgrade():
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('derived_ceiling_share', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('derived_trust_rank', sa.Integer(), nullable=True))
        batch_op.create_index('ix_submissions_state_share',
                              ['state', 'derived_ceiling_share', 'id', 'derived_newest_at'],
                              unique=False)
        batch_op.create_index('ix_submissions_state_trust',
                              ['state', 'derived_trust_rank', 'derived_newest_at', 'id'],
                              unique=False)
    op.execute(TRUST_RANK)
    op.execute(CEILING_SHARE)
    # New indexes without statistics: SQLite's planner then read page 1 of a 100,000-row
    # catalog through the stale index and a temporary sort (1.6 s instead of 1 ms).
    op.execute("ANALYZE submissions")


def downgrade():
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_index('ix_submissions_state_trust')
        batch_op.drop_index('ix_submissions_state_share')
        batch_op.drop_column('derived_trust_rank')
        batch_op.drop_column('derived_ceiling_share')
