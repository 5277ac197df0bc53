"""Periodic jobs: the daily purge and the weekly digest run once across replicas.

Revision ID: 0002_job_runs
Revises: 0001_initial
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_job_runs"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("last_run_at", TIME, nullable=True),
        sa.Column("lease_owner", sa.String(128), nullable=True),
        sa.Column("lease_expires_at", TIME, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("job_runs")
