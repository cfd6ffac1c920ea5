"""The quota daemon's graph (glusterd's build_quotad_graph) against golden files, and the quota
switches of the brick graph. Regenerate with `KADALU_REGEN_GOLDEN=1 pytest tests/unit/volgen`."""
import os
from pathlib import Path

import pytest

from tests.unit.volgen.samples import CASES, NODE_UUID
from volgen import brick_volfile
from volgen.quotad import quota_enabled, quota_version, quotad_volfile
from volgen.topology import graph_shape

GOLDEN = Path(__file__).parent / "golden" / "quotad"
REGEN = os.environ.get("KADALU_REGEN_GOLDEN") == "1"


def _check(name: str, text: str) -> None:
    path = GOLDEN / name
    if REGEN:
        path.write_text(text)
    assert text == path.read_text(), f"{name} differs from its golden file (regenerate if intended)"


def test_quotad_graph_of_one_volume():
    _check("replicate3-quota.quotad.vol", quotad_volfile([CASES["replicate3-quota"]]))


def test_quotad_graph_skips_volumes_without_quota():
    with_other = [CASES["replicate3"], CASES["replicate3-quota"]]
    assert quotad_volfile(with_other) == quotad_volfile([CASES["replicate3-quota"]])
    with pytest.raises(ValueError, match="no volume with quota"):
        quotad_volfile([CASES["replicate3"]])


def test_quotad_serves_every_quota_volume():
    other = CASES["replicate3-quota"].model_copy(update={"name": "other"})
    text = quotad_volfile([other, CASES["replicate3-quota"]])
    assert "option other.volume-id other" in text and "option rep3q.volume-id rep3q" in text
    assert text.rstrip().splitlines()[-2] == "    subvolumes other rep3q"


def test_brick_graph_switches_marker_and_quota_on_without_changing_shape():
    plain, quota = CASES["replicate3"], CASES["replicate3-quota"]
    on = brick_volfile(quota, quota.bricks[0], NODE_UUID[quota.bricks[0].node_id])
    for line in ("option quota on", "option inode-quota on", "option quota-version 2", "option server-quota on",
                 "option deem-statfs on", "option update-link-count-parent on", "option soft-timeout 1"):
        assert line in on
    off = brick_volfile(plain, plain.bricks[0], NODE_UUID[plain.bricks[0].node_id])
    assert [t for _, t in graph_shape(on)] == [t for _, t in graph_shape(off)]  # enable is taken live
    assert quota_enabled(quota) and not quota_enabled(plain)
    assert quota_version(quota.options) == 2 and quota_version({"features.quota-version": "x"}) == 0
