"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.store.types


revision: str = '0001'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('bars',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('symbol', sa.String(), nullable=False),
    sa.Column('timeframe', sa.String(), nullable=False),
    sa.Column('ts', bot.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('open', bot.store.types.Money(), nullable=False),
    sa.Column('high', bot.store.types.Money(), nullable=False),
    sa.Column('low', bot.store.types.Money(), nullable=False),
    sa.Column('close', bot.store.types.Money(), nullable=False),
    sa.Column('volume', bot.store.types.Money(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bars')),
    sa.UniqueConstraint('symbol', 'timeframe', 'ts', name=op.f('uq_bars_symbol_timeframe_ts'))
    )
    op.create_table('cursors',
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_cursors'))
    )
    op.create_table('cycles',
    sa.Column('number', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('started_at', bot.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', bot.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(), nullable=False),
    sa.Column('trading_state', sa.String(), nullable=False),
    sa.Column('summary', bot.store.types.JSONText(), nullable=False),
    sa.PrimaryKeyConstraint('number', name=op.f('pk_cycles'))
    )
    op.create_table('events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ts', bot.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('cycle', sa.Integer(), nullable=True),
    sa.Column('level', sa.String(), nullable=False),
    sa.Column('kind', sa.String(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('data', bot.store.types.JSONText(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events'))
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_events_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_events_ts'), ['ts'], unique=False)

    op.create_table('fills',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trade_id', sa.String(), nullable=False),
    sa.Column('venue_order_id', sa.String(), nullable=False),
    sa.Column('client_order_id', sa.String(), nullable=True),
    sa.Column('symbol', sa.String(), nullable=False),
    sa.Column('side', sa.String(), nullable=False),
    sa.Column('qty', bot.store.types.Money(), nullable=False),
    sa.Column('price', bot.store.types.Money(), nullable=False),
    sa.Column('fee', bot.store.types.Money(), nullable=False),
    sa.Column('fee_asset', sa.String(), nullable=False),
    sa.Column('ts', bot.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('hedge', sa.String(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fills')),
    sa.UniqueConstraint('trade_id', name=op.f('uq_fills_trade_id'))
    )
    with op.batch_alter_table('fills', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fills_client_order_id'), ['client_order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fills_symbol_ts'), ['symbol', 'ts'], unique=False)
        batch_op.create_index(batch_op.f('ix_fills_venue_order_id'), ['venue_order_id'], unique=False)

    op.create_table('funding_payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.String(), nullable=False),
    sa.Column('symbol', sa.String(), nullable=False),
    sa.Column('amount', bot.store.types.Money(), nullable=False),
    sa.Column('rate', bot.store.types.Money(), nullable=True),
    sa.Column('position_size', bot.store.types.Money(), nullable=True),
    sa.Column('ts', bot.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_funding_payments')),
    sa.UniqueConstraint('payment_id', name=op.f('uq_funding_payments_payment_id'))
    )
    with op.batch_alter_table('funding_payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_funding_payments_symbol_ts'), ['symbol', 'ts'], unique=False)

    op.create_table('intents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_order_id', sa.String(), nullable=False),
    sa.Column('cycle', sa.Integer(), nullable=False),
    sa.Column('hedge', sa.String(), nullable=False),
    sa.Column('symbol', sa.String(), nullable=False),
    sa.Column('side', sa.String(), nullable=False),
    sa.Column('kind', sa.String(), nullable=False),
    sa.Column('purpose', sa.String(), nullable=False),
    sa.Column('qty', bot.store.types.Money(), nullable=False),
    sa.Column('price', bot.store.types.Money(), nullable=True),
    sa.Column('trigger_price', bot.store.types.Money(), nullable=True),
    sa.Column('reduce_only', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('venue_order_id', sa.String(), nullable=True),
    sa.Column('filled_qty', bot.store.types.Money(), nullable=False),
    sa.Column('avg_price', bot.store.types.Money(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', bot.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', bot.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intents')),
    sa.UniqueConstraint('client_order_id', name=op.f('uq_intents_client_order_id'))
    )
    with op.batch_alter_table('intents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intents_cycle'), ['cycle'], unique=False)
        batch_op.create_index(batch_op.f('ix_intents_symbol_status'), ['symbol', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_intents_venue_order_id'), ['venue_order_id'], unique=False)

    op.create_table('rejections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle', sa.Integer(), nullable=True),
    sa.Column('hedge', sa.String(), nullable=False),
    sa.Column('symbol', sa.String(), nullable=False),
    sa.Column('source', sa.String(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('client_order_id', sa.String(), nullable=True),
    sa.Column('side', sa.String(), nullable=True),
    sa.Column('qty', bot.store.types.Money(), nullable=True),
    sa.Column('created_at', bot.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rejections'))
    )
    with op.batch_alter_table('rejections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rejections_cycle'), ['cycle'], unique=False)

    op.create_table('risk_state',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('state', sa.String(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('updated_at', bot.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_state'))
    )
    op.create_table('targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle', sa.Integer(), nullable=False),
    sa.Column('hedge', sa.String(), nullable=False),
    sa.Column('symbol', sa.String(), nullable=False),
    sa.Column('current_size', bot.store.types.Money(), nullable=False),
    sa.Column('target_size', bot.store.types.Money(), nullable=False),
    sa.Column('ratio', bot.store.types.Money(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('details', bot.store.types.JSONText(), nullable=False),
    sa.Column('created_at', bot.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_targets'))
    )
    with op.batch_alter_table('targets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_targets_cycle'), ['cycle'], unique=False)
        batch_op.create_index(batch_op.f('ix_targets_hedge_symbol_id'), ['hedge', 'symbol', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('targets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_targets_hedge_symbol_id'))
        batch_op.drop_index(batch_op.f('ix_targets_cycle'))

    op.drop_table('targets')
    op.drop_table('risk_state')
    with op.batch_alter_table('rejections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rejections_cycle'))

    op.drop_table('rejections')
    with op.batch_alter_table('intents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intents_venue_order_id'))
        batch_op.drop_index(batch_op.f('ix_intents_symbol_status'))
        batch_op.drop_index(batch_op.f('ix_intents_cycle'))

    op.drop_table('intents')
    with op.batch_alter_table('funding_payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_funding_payments_symbol_ts'))

    op.drop_table('funding_payments')
    with op.batch_alter_table('fills', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fills_venue_order_id'))
        batch_op.drop_index(batch_op.f('ix_fills_symbol_ts'))
        batch_op.drop_index(batch_op.f('ix_fills_client_order_id'))

    op.drop_table('fills')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_events_ts'))
        batch_op.drop_index(batch_op.f('ix_events_kind'))

    op.drop_table('events')
    op.drop_table('cycles')
    op.drop_table('cursors')
    op.drop_table('bars')
