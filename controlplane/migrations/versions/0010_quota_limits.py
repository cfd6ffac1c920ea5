"""quota limits: one row per limited directory of a volume, with the usage last reported

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('quotalimit',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('volume_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('cluster_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('path', sqlmodel.sql.sqltypes.AutoString(length=4096), nullable=False),
    sa.Column('hard_bytes', sa.BigInteger(), nullable=True),
    sa.Column('soft_percent', sa.Integer(), nullable=True),
    sa.Column('hard_objects', sa.BigInteger(), nullable=True),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=4096), nullable=False),
    sa.Column('previous', sa.JSON(), nullable=True),
    sa.Column('used_bytes', sa.BigInteger(), nullable=False),
    sa.Column('files', sa.BigInteger(), nullable=False),
    sa.Column('dirs', sa.BigInteger(), nullable=False),
    sa.Column('usage_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['cluster_id'], ['cluster.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['volume_id'], ['volume.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('volume_id', 'path', name='uq_quotalimit_volume_path')
    )
    with op.batch_alter_table('quotalimit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quotalimit_cluster_id'), ['cluster_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_quotalimit_volume_id'), ['volume_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('quotalimit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quotalimit_volume_id'))
        batch_op.drop_index(batch_op.f('ix_quotalimit_cluster_id'))
    op.drop_table('quotalimit')
