"""site_state: the data version behind the public page cache

Revision ID: 5c1e0a7d2b41
Revises: 089e4017cab9
Create Date: 2026-12-01 14:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = '5c1e0a7d2b41'
down_revision = '089e4017cab9'
branch_labels = None
depends_on = None


def upgrade():
    site_state = op.create_table('site_state',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('data_version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_site_state'))
    )
    op.bulk_insert(site_state, [{'id': 1, 'data_version': 0}])


def downgrade():
    op.drop_table('site_state')
