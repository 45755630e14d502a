"""submissions: how the numbers got there (source format, version, sha256), and the
tier index between an editorial lift's end and the 12-month edge

Revision ID: 7d3c9a1e5f20
Revises: 5c1e0a7d2b41
Create Date: 2026-12-02 02:45:00

"""
from alembic import op
import sqlalchemy as sa

from webapp.models import UTCDateTime

revision = '7d3c9a1e5f20'
down_revision = '5c1e0a7d2b41'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_format', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('source_version', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('source_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('derived_tier_lifted_off', sa.String(length=12),
                                      nullable=True))
        batch_op.add_column(sa.Column('derived_lift_until', UTCDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_column('derived_lift_until')
        batch_op.drop_column('derived_tier_lifted_off')
        batch_op.drop_column('source_sha256')
        batch_op.drop_column('source_version')
        batch_op.drop_column('source_format')
