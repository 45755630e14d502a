"""submissions.source_doubts: what the import found wrong with a result file whose
numbers the row keeps (its timestamps disagree with its speeds, it was written by a
runner other than the one the site serves, it names no prompt), shown with the row's
provenance to reviewers and readers. Existing rows have none recorded.

Revision ID: c3d5f7a9b1e2
Revises: a7c2e9f4b810
Create Date: 2026-12-04 18:45:00

"""
from alembic import op
import sqlalchemy as sa

revision = 'c3d5f7a9b1e2'
down_revision = 'a7c2e9f4b810'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('submissions') as batch_op:
        batch_op.add_column(sa.Column('source_doubts', sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table('submissions') as batch_op:
        batch_op.drop_column('source_doubts')
