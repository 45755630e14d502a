"""the stored tier index recomputed for every public row: runtime drift now reads a
release as newer than its own pre-releases (0.6.0 after 0.6.0-rc1, 0.6.0rc1 and
0.6.0-rc.1; 0.6.0-rc2 after 0.6.0-rc1) and a post-release as newer than its release
(0.6.4.post1 after 0.6.4), so a row whose reproduction on such a version diverges by
more than 10% is lowered one step, in the catalog's filters as on its page.
Nothing in the schema changes.

Revision ID: d9f2b6e4a3c1
Revises: c3d5f7a9b1e2
Create Date: 2026-12-04 19:30:00

"""
from alembic import op
from sqlalchemy.orm import Session

revision = 'd9f2b6e4a3c1'
down_revision = 'c3d5f7a9b1e2'
branch_labels = None
depends_on = None


def _refresh():
    # The same recomputation `flask refresh` runs, on this migration's connection.
    from webapp.services import evidence

    session = Session(bind=op.get_bind())
    evidence.refresh_all(session)
    session.flush()
    session.close()


def upgrade():
    _refresh()


def downgrade():
    # The older code reads the index as it did: after downgrading the code, `flask
    # refresh` recomputes it in the older rules. Nothing to undo in the schema.
    pass
