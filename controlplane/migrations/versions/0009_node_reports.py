"""node reports: the last drift report of each node (kadalu cluster verify, drift alerts)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('nodereport',
    sa.Column('node_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('cluster_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('sent_at', sa.Float(), nullable=False),
    sa.Column('received_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('metadata_version', sa.Integer(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['cluster_id'], ['cluster.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['node_id'], ['node.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('node_id')
    )
    with op.batch_alter_table('nodereport', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_nodereport_cluster_id'), ['cluster_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('nodereport', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_nodereport_cluster_id'))
    op.drop_table('nodereport')
