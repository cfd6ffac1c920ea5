import pytest

from contracts.task_kinds import Phase, TaskKind, state_word


@pytest.mark.parametrize("kind,words", [
    (TaskKind.START_BRICK, ["QUEUED", "STARTING", "STARTED", "FAILED"]),
    (TaskKind.CREATE_BRICK, ["QUEUED", "CREATING", "CREATED", "FAILED"]),
    (TaskKind.STOP_BRICK, ["QUEUED", "STOPPING", "STOPPED", "FAILED"]),
    (TaskKind.ADD_DEVICE, ["QUEUED", "ADDING", "ADDED", "FAILED"]),
])
def test_each_kind_has_its_own_words(kind, words):
    assert [state_word(kind, p) for p in (Phase.QUEUED, Phase.RUNNING, Phase.DONE, Phase.FAILED)] == words


def test_every_kind_has_words():
    for kind in TaskKind:
        assert state_word(kind, Phase.DONE) not in ("QUEUED", "FAILED")
