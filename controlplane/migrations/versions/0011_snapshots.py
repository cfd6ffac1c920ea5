"""snapshots: snapshots of volumes and their schedules

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('snapshot',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('cluster_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('volume_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=1024), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=8192), nullable=False),
    sa.Column('step', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('operation_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.Column('origin', sa.JSON(), nullable=False),
    sa.Column('bricks', sa.JSON(), nullable=False),
    sa.Column('barrier_since', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('schedule_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['cluster_id'], ['cluster.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['volume_id'], ['volume.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('cluster_id', 'name', name='uq_snapshot_cluster_name')
    )
    with op.batch_alter_table('snapshot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_snapshot_cluster_id'), ['cluster_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_snapshot_volume_id'), ['volume_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_snapshot_schedule_id'), ['schedule_id'], unique=False)
    op.create_table('snapshotschedule',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('cluster_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('volume_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('every_seconds', sa.Integer(), nullable=False),
    sa.Column('keep', sa.Integer(), nullable=False),
    sa.Column('next_run_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_run_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['cluster_id'], ['cluster.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['volume_id'], ['volume.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('volume_id', name='uq_snapshotschedule_volume')
    )
    with op.batch_alter_table('snapshotschedule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_snapshotschedule_cluster_id'), ['cluster_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_snapshotschedule_next_run_at'), ['next_run_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('snapshotschedule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_snapshotschedule_next_run_at'))
        batch_op.drop_index(batch_op.f('ix_snapshotschedule_cluster_id'))
    op.drop_table('snapshotschedule')
    with op.batch_alter_table('snapshot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_snapshot_schedule_id'))
        batch_op.drop_index(batch_op.f('ix_snapshot_volume_id'))
        batch_op.drop_index(batch_op.f('ix_snapshot_cluster_id'))
    op.drop_table('snapshot')
