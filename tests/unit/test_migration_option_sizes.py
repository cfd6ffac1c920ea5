"""Revision 0005: option sizes stored under the old rule ("64MB" = 64 MiB, as GlusterFS reads it)
become byte counts with the same meaning, on SQLite and PostgreSQL; nothing else changes."""
import importlib.util
import os
import uuid

import pytest
import sqlalchemy as sa

import optiontable
from controlplane.migrate import MIGRATIONS_DIR, upgrade
from optiontable.sizes import gluster_bytes
from tests.conftest import PG_ADMIN_URL, _pg_available

OLD_OPTIONS = {
    "performance.cache-size": "64MB",  # meant 64 MiB
    "performance.write-behind-window-size": "1.5MB",
    "features.shard-block-size": "256mb",  # stored before normalisation, or by hand
    "performance.rda-low-wmark": "4096",
    "performance.cache-min-file-size": "0",
    "cluster.min-free-disk": "10GB",
    "storage.reserve": "5%",
    "performance.write-behind": "off",
    "auth.allow": "10.0.0.*",
    "some.old-option": "64MB",  # not a size option of the table: left alone
}
MIGRATED = OLD_OPTIONS | {
    "performance.cache-size": str(64 << 20),
    "performance.write-behind-window-size": str(3 << 19),
    "features.shard-block-size": str(256 << 20),
    "cluster.min-free-disk": str(10 << 30),
}


def _revision():
    spec = importlib.util.spec_from_file_location(
        "rev0005", MIGRATIONS_DIR / "versions" / "0005_option_sizes_as_bytes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(params=["sqlite", "pg"])
def fresh_url(request, tmp_path):
    """An empty database of its own: this test migrates it from revision 0004."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    if not _pg_available():
        (pytest.fail if os.environ.get("CI") else pytest.skip)(f"PostgreSQL is not reachable at {PG_ADMIN_URL}")
    name = f"kadalu_mig_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _volumes_at_0004(url: str, options_by_name: dict[str, dict]) -> None:
    upgrade(url, "0004")
    engine = sa.create_engine(url)
    volume = sa.table("volume", *(sa.column(c) for c in (
        "id", "cluster_id", "name", "type", "replica_count", "arbiter_count", "disperse_count",
        "redundancy_count", "state", "reason", "start_after_create", "created_at", "updated_at")),
        sa.column("options", sa.JSON))
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO cluster (id, name, join_token_hash, metadata_version, created_at) "
                             "VALUES ('c', 'default', '', 0, CURRENT_TIMESTAMP)"))
        for name, options in options_by_name.items():
            conn.execute(volume.insert().values(
                id=str(uuid.uuid4()), cluster_id="c", name=name, type="replicate", replica_count=3, arbiter_count=0,
                disperse_count=0, redundancy_count=0, state="Started", reason="", start_after_create=True,
                created_at=sa.func.now(), updated_at=sa.func.now(), options=options))
    engine.dispose()


def _options(url: str) -> dict[str, dict]:
    engine = sa.create_engine(url)
    volume = sa.table("volume", sa.column("name"), sa.column("options", sa.JSON))
    with engine.connect() as conn:
        out = {name: options for name, options in conn.execute(sa.select(volume.c.name, volume.c.options))}
    engine.dispose()
    return out


def test_stored_sizes_keep_their_meaning(fresh_url):
    _volumes_at_0004(fresh_url, {"old": OLD_OPTIONS, "plain": {"performance.write-behind": "off"}, "none": {}})
    upgrade(fresh_url)
    after = _options(fresh_url)
    assert after == {"old": MIGRATED, "plain": {"performance.write-behind": "off"}, "none": {}}
    for name, value in after["old"].items():
        if name in optiontable.load():
            assert optiontable.validate(name, value) == value  # the new canonical form: stable
            if value != OLD_OPTIONS[name] and not value.endswith("%"):
                assert int(value) == gluster_bytes(OLD_OPTIONS[name])  # what GlusterFS read before
    upgrade(fresh_url)  # at head already: nothing changes
    assert _options(fresh_url) == after


def test_the_frozen_lists_are_the_size_options_of_the_table():
    rev = _revision()
    table = optiontable.load("10.3")
    assert rev.SIZE_OPTIONS == {n for n, e in table.items() if e["type"] in ("size", "size-list")}
    assert rev.PERCENT_OR_SIZE_OPTIONS == {n for n, e in table.items() if e["type"] == "percent-or-size"}


@pytest.mark.parametrize("old, new", [
    ("64MB", str(64 << 20)), ("4mb", str(4 << 20)), ("1KB", "1024"), ("2GB", str(2 << 30)), ("1TB", str(1 << 40)),
    ("1PB", str(1 << 50)), ("512B", "512"), ("1048576", "1048576"), ("0", "0"), (".5MB", str(1 << 19)),
    ("0.3KB", "307"),  # GlusterFS cut the fraction: 307.2 bytes read as 307
    ("5%", None), ("10 MB", None), ("1MiB", None), ("big", None), ("", None), (64, None),
])
def test_old_values_as_glusterfs_read_them(old, new):
    assert _revision().old_value_as_bytes(old) == new
    if new is not None:
        assert gluster_bytes(old) == int(new)
