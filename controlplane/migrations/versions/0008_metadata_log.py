"""metadata as an append-only change log with compacted snapshots (issue #14): metadatachange,
metadatasnapshot; each cluster's newest complete version becomes its first snapshot; metadataversion dropped

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""
import gzip
import json

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('metadatachange',
    sa.Column('cluster_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('change', sa.JSON(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['cluster_id'], ['cluster.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('cluster_id', 'version')
    )
    snapshots = op.create_table('metadatasnapshot',
    sa.Column('cluster_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['cluster_id'], ['cluster.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('cluster_id', 'version')
    )
    bind = op.get_bind()
    old = sa.table('metadataversion', sa.column('cluster_id', sa.String), sa.column('version', sa.Integer),
                   sa.column('content', sa.JSON), sa.column('created_at', sa.DateTime))
    newest = sa.select(old.c.cluster_id, sa.func.max(old.c.version).label('version')).group_by(old.c.cluster_id).subquery()
    rows = bind.execute(sa.select(old.c.cluster_id, old.c.version, old.c.content, old.c.created_at).join(
        newest, sa.and_(old.c.cluster_id == newest.c.cluster_id, old.c.version == newest.c.version))).all()
    for cluster_id, version, content, created_at in rows:
        content = dict(content or {})
        content.pop('version', None)
        raw = json.dumps({'version': version, 'content': content}, separators=(',', ':')).encode()
        bind.execute(snapshots.insert().values(cluster_id=cluster_id, version=version, data=gzip.compress(raw, 3),
                                               size_bytes=len(raw), created_at=created_at))
    op.drop_table('metadataversion')


def downgrade() -> None:
    op.create_table('metadataversion',
    sa.Column('cluster_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['cluster_id'], ['cluster.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('cluster_id', 'version')
    )
    op.drop_table('metadatasnapshot')
    op.drop_table('metadatachange')
