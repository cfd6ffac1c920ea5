"""The shape of a graph (volgen.topology): what decides between a live reconfigure and a restart."""
from controlplane.services.volume_ops.reconfigure import shapes
from tests.unit.volgen.samples import NODE_UUID, sample_spec
from volgen import brick_volfile, client_volfile
from volgen.topology import graph_shape, same_shape


def test_shape_is_the_translators_in_order_without_their_options():
    spec = sample_spec("rep3", "replicate", 3, replica_count=3)
    text = brick_volfile(spec, spec.bricks[0], NODE_UUID[spec.bricks[0].node_id])
    shape = graph_shape(text)
    assert shape[0] == ("rep3-posix", "storage/posix") and shape[-1] == ("rep3-server", "protocol/server")
    assert len(shape) == text.count("end-volume")
    tuned = sample_spec("rep3", "replicate", 3, replica_count=3, options={"performance.io-thread-count": "37"})
    new = brick_volfile(tuned, tuned.bricks[0], NODE_UUID[tuned.bricks[0].node_id])
    assert new != text and same_shape(text, new)


def test_a_translator_switched_off_changes_the_shape():
    spec = sample_spec("rep3", "replicate", 3, replica_count=3)
    off = sample_spec("rep3", "replicate", 3, replica_count=3, options={"performance.write-behind": "off"})
    assert not same_shape(client_volfile(spec), client_volfile(off))
    # the same names in another order is another shape too
    a = "volume a\n    type x/y\nend-volume\n\nvolume b\n    type x/z\nend-volume\n"
    b = "volume b\n    type x/z\nend-volume\n\nvolume a\n    type x/y\nend-volume\n"
    assert graph_shape(a) == [("a", "x/y"), ("b", "x/z")] and not same_shape(a, b)


def test_control_plane_compares_every_brick_and_the_self_heal_graph():
    spec = sample_spec("rep3", "replicate", 3, replica_count=3)
    assert len(shapes(spec)) == 4  # three bricks and the self-heal daemon
    brick_only = sample_spec("rep3", "replicate", 3, replica_count=3, options={"diagnostics.brick-log-level": "DEBUG"})
    client_only = sample_spec("rep3", "replicate", 3, replica_count=3, options={"performance.write-behind": "off"})
    assert shapes(brick_only) == shapes(spec) == shapes(client_only)  # live, no restart
    assert len(shapes(sample_spec("dist", "distribute", 2))) == 2  # no self-heal daemon
