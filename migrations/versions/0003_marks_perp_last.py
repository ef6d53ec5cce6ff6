"""marks: the perp's last traded price beside its mark

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29

Perp orders fill at the perp's last price, not at its mark: a report measures a perp fill's
slippage against the last price of the mark before it. Rows written before this revision keep
perp_last NULL, and the report falls back to their mark (the basis then counts as slippage).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.store.types


revision: str = '0003'
down_revision: str | Sequence[str] | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('marks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('perp_last', bot.store.types.Money(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('marks', schema=None) as batch_op:
        batch_op.drop_column('perp_last')
