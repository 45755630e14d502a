"""public_row_counts also count each quant's and runtime's public rows: with the hardware
and model counts they choose the index SQLite reads a filtered catalog page through
(services.narrowing); filled here from the existing rows, as `flask refresh` would.
The four filter indexes also hold id, derived_newest_at and the other three filters, and
the six sort indexes the four filters, so a filtered count, a filtered deep page's
step-over and a filtered walk in any order test each entry without reading its row (at
100,000 rows SQLite looked up 3,000-40,000 rows in the table for one page: 5-90 ms).

Revision ID: b8e2d4f6a913
Revises: a5d3f8c1e702
Create Date: 2026-12-03 09:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'b8e2d4f6a913'
down_revision = 'a5d3f8c1e702'
branch_labels = None
depends_on = None

PUBLIC = "approved-public"
COUNTED = (("quant", "quant_id"), ("runtime", "runtime_id"))
FILTER_IDS = ['model_id', 'hardware_id', 'quant_id', 'runtime_id']
# Each sort index before this revision: after "state", these columns.
SORTS = {
    'decode': ['decode_tps', 'id', 'derived_newest_at'],
    'ttft': ['ttft_ms', 'id', 'derived_newest_at'],
    'created': ['created_at', 'id', 'derived_newest_at'],
    'share': ['derived_ceiling_share', 'id', 'derived_newest_at'],
    'trust': ['derived_trust_rank', 'derived_newest_at', 'id'],
    'vram': ['vram_peak_mib', 'id', 'derived_newest_at'],
}


def _indexes(covering):
    """Every sort and filter index, as this revision (covering) or the one before has it."""
    definitions = {}
    for name, columns in SORTS.items():
        definitions[name] = ['state', *columns, *(FILTER_IDS if covering else [])]
    for column in FILTER_IDS:
        others = [other for other in FILTER_IDS if other != column]
        definitions[column.removesuffix('_id')] = (
            ['state', column, 'decode_tps', 'id', 'derived_newest_at', *others] if covering
            else ['state', column, 'decode_tps'])
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        for name, columns in definitions.items():
            batch_op.drop_index(f'ix_submissions_state_{name}')
            batch_op.create_index(f'ix_submissions_state_{name}', columns, unique=False)


def upgrade():
    _indexes(covering=True)
    op.execute("ANALYZE submissions")
    # Plain SQL, so later changes to the models cannot change what this step did. The
    # migration that created the table filled it with the code of its day, which may
    # already count these: they are counted afresh.
    op.execute(sa.text("DELETE FROM public_row_counts WHERE subject IN ('quant', 'runtime')"))
    for subject, column in COUNTED:
        op.execute(sa.text(
            "INSERT INTO public_row_counts (subject, reference_id, rows, demo_rows) "
            f"SELECT :subject, {column}, COUNT(*), "
            "COALESCE(SUM(CASE WHEN is_demo THEN 1 ELSE 0 END), 0) "
            "FROM submissions WHERE state = :public "
            f"GROUP BY {column}").bindparams(subject=subject, public=PUBLIC))


def downgrade():
    _indexes(covering=False)
    op.execute(sa.text("DELETE FROM public_row_counts WHERE subject IN ('quant', 'runtime')"))
