"""submissions: covering indexes for the hardware and model charts, and the VRAM sort's index

The hardware page's scatter and the model page's bars read a few columns of every public
row of one entry; without an index holding those columns SQLite read 10,000-23,000
scattered rows at 100,000 rows (0.4-0.9 s). The catalog's VRAM sort had no index.

Revision ID: f3b7d1a9c4e2
Revises: c71e5a9d3b28
Create Date: 2026-12-02 06:25:00

"""
from alembic import op

revision = 'f3b7d1a9c4e2'
down_revision = 'c71e5a9d3b28'
branch_labels = None
depends_on = None

HARDWARE_CHART = ['state', 'hardware_id', 'model_id', 'quant_id', 'hardware_count',
                  'tensor_parallel', 'derived_badge', 'kind', 'decode_tps']
MODEL_CHART = ['state', 'model_id', 'hardware_id', 'hardware_count', 'tensor_parallel',
               'quant_id', 'decode_tps']
VRAM = ['state', 'vram_peak_mib', 'id', 'derived_newest_at']


def upgrade():
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.create_index('ix_submissions_hardware_chart', HARDWARE_CHART, unique=False)
        batch_op.create_index('ix_submissions_model_chart', MODEL_CHART, unique=False)
        batch_op.create_index('ix_submissions_state_vram', VRAM, unique=False)
    op.execute("ANALYZE submissions")


def downgrade():
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_index('ix_submissions_state_vram')
        batch_op.drop_index('ix_submissions_model_chart')
        batch_op.drop_index('ix_submissions_hardware_chart')
