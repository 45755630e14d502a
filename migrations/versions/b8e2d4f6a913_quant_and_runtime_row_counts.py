"""public_row_counts also count each quant's and runtime's public rows: with the hardware
and model counts they choose the index SQLite reads a filtered catalog page through
(services.narrowing); filled here from the existing rows, as `flask refresh` would.
The four filter indexes also hold id and derived_newest_at, so counting a filter's fresh
rows and stepping over them to a deep page read the index alone (at 100,000 rows SQLite
looked up 10,000-40,000 rows in the table for each: 20-90 ms).

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


FILTERS = ("model", "hardware", "quant", "runtime")


def _indexes(columns):
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        for name in FILTERS:
            batch_op.drop_index(f'ix_submissions_state_{name}')
            batch_op.create_index(f'ix_submissions_state_{name}',
                                  ['state', f'{name}_id', *columns], unique=False)


def upgrade():
    _indexes(['decode_tps', 'id', 'derived_newest_at'])
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
    _indexes(['decode_tps'])
    op.execute(sa.text("DELETE FROM public_row_counts WHERE subject IN ('quant', 'runtime')"))
