"""geo-replication: sessions (master volume -> remote volume) and their per-brick workers

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 22:07:00.334507
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('georepsession',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('cluster_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('master_volume_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('remote_cluster_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.Column('remote_volume_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.Column('remote_volume', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('remote_host', sqlmodel.sql.sqltypes.AutoString(length=253), nullable=False),
    sa.Column('remote_user', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('remote_key', sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
    sa.Column('ssh_port', sa.Integer(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=8192), nullable=False),
    sa.Column('config', sa.JSON(), nullable=False),
    sa.Column('public_keys', sa.JSON(), nullable=False),
    sa.Column('start_after_create', sa.Boolean(), nullable=False),
    sa.Column('force', sa.Boolean(), nullable=False),
    sa.Column('operation_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['cluster_id'], ['cluster.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['master_volume_id'], ['volume.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['remote_cluster_id'], ['cluster.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('master_volume_id', 'remote_key', name='uq_georep_master_remote')
    )
    with op.batch_alter_table('georepsession', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_georepsession_cluster_id'), ['cluster_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_georepsession_master_volume_id'), ['master_volume_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_georepsession_remote_cluster_id'), ['remote_cluster_id'], unique=False)

    op.create_table('georepworker',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('session_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('brick_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('node_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('subvol', sa.Integer(), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('crawl_status', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('last_synced', sa.BigInteger(), nullable=False),
    sa.Column('entry', sa.BigInteger(), nullable=False),
    sa.Column('data', sa.BigInteger(), nullable=False),
    sa.Column('meta', sa.BigInteger(), nullable=False),
    sa.Column('failures', sa.BigInteger(), nullable=False),
    sa.Column('checkpoint_completed', sa.Boolean(), nullable=False),
    sa.Column('checkpoint_completion_time', sa.BigInteger(), nullable=False),
    sa.Column('reported_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['brick_id'], ['brick.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['node_id'], ['node.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['georepsession.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('session_id', 'brick_id', name='uq_georep_worker_brick')
    )
    with op.batch_alter_table('georepworker', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_georepworker_session_id'), ['session_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('georepworker', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_georepworker_session_id'))

    op.drop_table('georepworker')
    with op.batch_alter_table('georepsession', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_georepsession_remote_cluster_id'))
        batch_op.drop_index(batch_op.f('ix_georepsession_master_volume_id'))
        batch_op.drop_index(batch_op.f('ix_georepsession_cluster_id'))

    op.drop_table('georepsession')
