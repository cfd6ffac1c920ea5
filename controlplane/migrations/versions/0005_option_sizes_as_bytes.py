"""option sizes as byte counts: stored size values of volume options rewritten to what they meant

Until this revision the option table read "64MB" as 64 MiB (GlusterFS's reading) and stored it so.
kadalu now reads sizes with one rule everywhere (MB = 10^6, MiB = 2^20; contracts/sizes.py) and
stores option sizes as byte counts, the one spelling GlusterFS and kadalu read alike
(optiontable/sizes.py). A stored "64MB" becomes "67108864": the same number GlusterFS read from
it, so no volfile changes meaning; only its text does.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""
import re

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# The size-typed options of the GlusterFS 10.3 option table, frozen here: this revision must do
# the same thing however the table changes later.
SIZE_OPTIONS = frozenset({
    "cluster.self-heal-readdir-size", "features.shard-block-size", "features.trash-max-filesize",
    "network.tcp-window-size", "performance.aggregate-size", "performance.cache-max-file-size",
    "performance.cache-min-file-size", "performance.cache-size", "performance.io-cache-size",
    "performance.nfs.write-behind-window-size", "performance.nl-cache-limit", "performance.quick-read-cache-size",
    "performance.rda-cache-limit", "performance.rda-high-wmark", "performance.rda-low-wmark",
    "performance.rda-request-size", "performance.write-behind-window-size",
})
PERCENT_OR_SIZE_OPTIONS = frozenset({"cluster.min-free-disk", "storage.reserve"})  # "5%" stays as it is

# What the old table stored: a number and an optional upper-case unit, read by GlusterFS with
# KB = 1024 and a fraction of a byte cut off (libglusterfs gf_string2bytesize_range).
_OLD_FORM = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(B|KB|MB|GB|TB|PB)?", re.IGNORECASE | re.ASCII)
_OLD_SCALE = {"": 1, "B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40, "PB": 1 << 50}


def old_value_as_bytes(value: object) -> str | None:
    """The byte count GlusterFS read from `value`, stored under the old rule; None when `value` is
    not a size of that form (it is left as it is)."""
    m = _OLD_FORM.fullmatch(value) if isinstance(value, str) else None
    if m is None:
        return None
    scale = _OLD_SCALE[(m.group(2) or "").upper()]
    whole, _, frac = m.group(1).partition(".")
    return str((int(whole or "0") * 10 ** len(frac) + int(frac or "0")) * scale // 10 ** len(frac))


def rewritten(options: dict) -> dict:
    out = dict(options)
    for name, value in options.items():
        if name in SIZE_OPTIONS or name in PERCENT_OR_SIZE_OPTIONS:
            as_bytes = old_value_as_bytes(value)
            if as_bytes is not None:
                out[name] = as_bytes
    return out


def upgrade() -> None:
    conn = op.get_bind()
    volume = sa.table("volume", sa.column("id", sa.String), sa.column("options", sa.JSON))
    for volume_id, options in conn.execute(sa.select(volume.c.id, volume.c.options)).all():
        if options and rewritten(options) != options:
            conn.execute(volume.update().where(volume.c.id == volume_id).values(options=rewritten(options)))


def downgrade() -> None:
    # A byte count means the same under the old rule: nothing to undo.
    pass
