import pytest

from controlplane.models import Volume
from controlplane.services.errors import Conflict
from controlplane.services.volume_states import IN_PROGRESS, TRANSITIONS, transition

ALL = sorted(TRANSITIONS)


@pytest.mark.parametrize("src", ALL)
@pytest.mark.parametrize("dst", ALL)
def test_every_arrow_of_the_table(src, dst):
    vol = Volume(cluster_id="c", name="v", type="replicate", state=src)
    if dst in TRANSITIONS[src]:
        transition(vol, dst, "why")
        assert vol.state == dst and vol.reason == "why"
    else:
        with pytest.raises(Conflict) as err:
            transition(vol, dst)
        assert vol.state == src
        if src in IN_PROGRESS:
            assert "in progress" in err.value.message


def test_every_in_progress_state_has_a_way_out_to_done_and_failed():
    for state in IN_PROGRESS:
        targets = TRANSITIONS[state]
        assert any(t.endswith("Failed") for t in targets) and any(not t.endswith("Failed") for t in targets)
