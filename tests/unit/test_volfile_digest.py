"""Drift compares volfile digests made by the control plane and by the agent: the node-derived
shared-brick-count must not make them differ, anything from the metadata must."""
from contracts.drift import volfile_digest
from tests.unit.volgen.samples import CASES
from volgen import brick_volfile


def test_shared_brick_count_is_left_out_of_the_digest_and_options_are_not():
    spec = CASES["replicate3"]
    brick = spec.bricks[0]
    one, three = brick_volfile(spec, brick, "u", 1), brick_volfile(spec, brick, "u", 3)
    assert one != three and volfile_digest(one) == volfile_digest(three)
    changed = spec.model_copy(update={"options": {"features.read-only": "on"}})
    assert volfile_digest(brick_volfile(changed, brick, "u", 1)) != volfile_digest(one)
