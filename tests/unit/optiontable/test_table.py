"""The shipped option table: shape, a few entries checked against GlusterFS 10.3 facts, and (where
GlusterFS is installed) that it is what `python -m tools.gen_option_table` derives today."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from optiontable import GLUSTERFS_VERSION, OptionError, describe, load, validate

ROOT = Path(__file__).resolve().parents[3]
TYPES = {"bool", "int", "size", "percent", "percent-or-size", "time", "double", "enum", "str", "path",
         "address", "address-list", "priority-list", "size-list", "xlator"}


def test_shape():
    table = load()
    assert 300 <= len(table) <= 400
    for name, e in table.items():
        assert e["name"] == name
        assert e["type"] in TYPES, name
        assert set(e["graphs"]) <= {"brick", "client", "shd"}, name
        assert (e["type"] == "enum") == bool(e["values"]), name
        assert e["targets"] and e["targets"][0]["xlator"] == e["xlator"], name
        if e["min"] is not None and e["max"] is not None:
            assert e["min"] <= e["max"], name


def test_every_default_is_a_value_the_option_accepts():
    for name in load():
        default = describe(name)["default"]  # sizes as stored: a byte count
        if default is None or "{{" in default:  # changelog-dir: a template of glusterd's
            continue
        try:
            validate(name, default)
        except OptionError as err:
            pytest.fail(f"default of {name}: {err}")
        if load()[name]["type"] in ("size", "percent-or-size", "size-list"):
            assert validate(name, default) == default, name


def test_entries_from_the_translators_own_tables():
    t = load()
    wb = t["performance.write-behind-window-size"]
    assert (wb["xlator"], wb["key"], wb["type"], wb["default"]) == ("performance/write-behind", "cache-size", "size", "1MB")
    q = t["cluster.quorum-type"]
    assert (q["xlator"], q["type"], q["values"]) == ("cluster/replicate", "enum", ["none", "auto", "fixed"])
    assert t["network.ping-timeout"]["type"] == "time" and t["network.ping-timeout"]["default"] == "42"
    assert t["storage.reserve"]["type"] == "percent-or-size"


def test_aliases_map_to_translator_options_and_switches():
    t = load()
    sw = t["performance.write-behind"]
    assert sw["switch"] and sw["xlator"] == "performance/write-behind" and sw["type"] == "bool"
    assert sw["default"] == "on"
    for side, graphs in (("brick", ["brick"]), ("client", ["client", "shd"])):
        e = t[f"diagnostics.{side}-log-level"]
        assert (e["xlator"], e["key"], e["graphs"]) == ("debug/io-stats", "log-level", graphs)
    allow = t["auth.allow"]["targets"][0]
    assert allow["setkey"] == "auth.addr.{{ brick.path }}.allow"
    cache = t["performance.cache-size"]  # one name, two translators
    assert [x["xlator"] for x in cache["targets"]] == ["performance/io-cache", "performance/quick-read"]


def test_data_file_is_package_data():
    path = ROOT / "optiontable" / "data" / f"options-{GLUSTERFS_VERSION}.json"
    doc = json.loads(path.read_text())
    assert doc["glusterfs_version"] == GLUSTERFS_VERSION
    assert doc["generated_by"] == "python -m tools.gen_option_table"


GLUSTERD_SO = Path(f"/usr/lib/x86_64-linux-gnu/glusterfs/{GLUSTERFS_VERSION}/xlator/mgmt/glusterd.so")


@pytest.mark.skipif(not GLUSTERD_SO.exists(), reason=f"GlusterFS {GLUSTERFS_VERSION} is not installed")
def test_table_is_what_the_installed_glusterfs_gives():
    # A subprocess: the generator dlopen()s glusterd.so and every translator.
    run = subprocess.run([sys.executable, "-m", "tools.gen_option_table", "--check"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
