"""Properties of the generated graphs that golden files alone would not explain."""
import pytest

from tests.unit.volgen.samples import CASES, sample_spec
from volgen import brick_volfile, client_volfile, inert_options, shd_volfile
from volgen.graph import render, xlator


def _types(text: str) -> list[str]:
    return [line.split()[1] for line in text.splitlines() if line.strip().startswith("type ")]


def _top(text: str) -> str:
    return [line.split()[1] for line in text.splitlines() if line.startswith("volume ")][-1]


@pytest.mark.parametrize("case", CASES)
def test_generation_is_deterministic(case):
    spec = CASES[case]
    again = spec.model_copy(deep=True)
    assert client_volfile(spec) == client_volfile(again)
    assert brick_volfile(spec, spec.bricks[0], "u") == brick_volfile(again, again.bricks[0], "u")


def test_unknown_and_inert_options_leave_the_volfiles_alone():
    spec = CASES["replicate3"]
    with_options = spec.model_copy(update={"options": {"no.such-option": "1", "nfs.disable": "on",
                                                       "features.scrub-freq": "daily", "features.acl": "off"}})
    assert client_volfile(with_options) == client_volfile(spec)
    assert shd_volfile(with_options) == shd_volfile(spec)
    assert brick_volfile(with_options, with_options.bricks[0], "u") == brick_volfile(spec, spec.bricks[0], "u")
    assert inert_options(with_options) == ["features.acl", "features.scrub-freq", "nfs.disable", "no.such-option"]


def test_brick_stack_order_top_to_bottom_is_glusterds():
    spec = CASES["replicate3"]
    text = brick_volfile(spec, spec.bricks[1], "node-uuid-2")
    assert list(reversed(_types(text))) == [
        "protocol/server", "debug/io-stats", "features/quota", "features/index", "features/barrier",
        "features/marker", "features/selinux", "performance/io-threads", "features/upcall", "features/leases",
        "features/read-only", "features/worm", "features/locks", "features/access-control",
        "features/bitrot-stub", "features/changelog", "features/trash", "storage/posix"]
    assert _top(text) == "rep3-server"
    assert "volume /bricks/rep3/b1\n" in text  # io-stats named after the brick path
    assert "option glusterd-uuid node-uuid-2" in text
    assert "option transport.socket.bind-address 192.168.10.12" in text


def test_only_the_arbiter_brick_has_the_arbiter_translator_right_above_posix():
    spec = sample_spec("arb", "arbiter", 6, replica_count=3, arbiter_count=1)
    for i, brick in enumerate(spec.bricks):
        types = _types(brick_volfile(spec, brick, "u"))
        if i % 3 == 2:
            assert types[:3] == ["storage/posix", "features/arbiter", "features/trash"]
        else:
            assert "features/arbiter" not in types


def test_distribute_is_always_there_over_the_sets():
    one = client_volfile(CASES["replicate3"])
    assert "volume rep3-dht\n    type cluster/distribute\n" in one
    assert "    subvolumes rep3-replicate-0\n" in one
    single = client_volfile(sample_spec("one", "distribute", 1))
    assert "    subvolumes one-client-0\n" in single and "type cluster/distribute" in single
    text = client_volfile(CASES["dist-replicate"])
    assert _types(text).count("cluster/replicate") == 2
    assert "    subvolumes distrep-replicate-0 distrep-replicate-1\n" in text
    assert _top(text) == "distrep"


def test_sets_name_their_own_clients():
    text = client_volfile(CASES["dist-replicate"])
    assert "option afr-pending-xattr distrep-client-3,distrep-client-4,distrep-client-5" in text
    assert "subvolumes distrep-client-3 distrep-client-4 distrep-client-5" in text


def test_shd_refuses_distribute_and_brick_refuses_a_stranger():
    with pytest.raises(ValueError, match="only replicate"):
        shd_volfile(CASES["distribute"])
    other = CASES["replicate3"].bricks[0]
    with pytest.raises(ValueError, match="not part of volume"):
        brick_volfile(CASES["distribute"], other, "u")


def test_render_refuses_duplicate_names():
    with pytest.raises(ValueError, match="duplicate"):
        render([xlator("a", "debug/io-stats"), xlator("a", "debug/io-stats")])
