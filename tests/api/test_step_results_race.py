"""The last results of a step applied at the same time by two control workers: the volume still takes
its next step (each would otherwise see the other's task still active, and neither would move on)."""
import threading
import time

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from contracts.messages import TaskResult
from controlplane.models import Task, Volume
from controlplane.services import reconcile, tasks
from controlplane.services.volume_ops.registry import brick_task_finished
from tests.api.volume_helpers import R3, create


def lock_waiters(engine) -> int:
    """Backends of this database waiting on a lock (a row lock held by another transaction)."""
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                 "AND wait_event_type = 'Lock'")).scalar_one()


def wait_until(check, timeout: float) -> bool:
    """Poll until check() holds; a bounded wait, not a timing assertion."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def pg_only(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers: the race needs PostgreSQL's concurrent transactions")


def test_two_workers_applying_the_last_two_results_of_a_step_at_once_still_start_the_volume(pg_only, client, admin, nodes):
    r = create(admin, "gvol1", R3)
    assert r.status_code == 202, r.text
    volume_id = r.json()["id"]
    engine = client.app.state.engine
    with Session(engine) as s:
        first, second, third = [(t.id, t.node_id) for t in s.exec(select(Task).where(Task.volume_id == volume_id))]
        reconcile.apply_result(s, TaskResult(task_id=first[0], node_id=first[1], ok=True))

    one, two = Session(engine), Session(engine)
    worker: threading.Thread | None = None
    try:
        # Both workers record their task's result before either commits ...
        t2 = tasks.apply_result(one, TaskResult(task_id=second[0], node_id=second[1], ok=True))
        t3 = tasks.apply_result(two, TaskResult(task_id=third[0], node_id=third[1], ok=True))
        assert t2 is not None and t3 is not None
        # ... the first counts the step (the third task is not committed: not its turn to move on) ...
        brick_task_finished(one, t2, {})
        blocked = threading.Event()

        def later_worker():
            brick_task_finished(two, t3, {})  # waits for the first worker's commit, then sees it
            blocked.set()
            two.commit()

        worker = threading.Thread(target=later_worker, daemon=True)
        worker.start()
        # held on the volume's row lock while the first is open: PostgreSQL shows its backend waiting
        assert wait_until(lambda: lock_waiters(engine) == 1 or blocked.is_set(), 30)
        assert not blocked.is_set()
        one.commit()
        worker.join(30)
        assert blocked.is_set()
    finally:
        if one.in_transaction():
            one.commit()  # a failed assertion above: let the other worker finish before closing
        if worker is not None:
            worker.join(30)
        one.close()
        two.close()

    with Session(engine) as s:
        volume = s.get(Volume, volume_id)
        kinds = [t.kind for t in s.exec(select(Task).where(Task.volume_id == volume_id))]
    assert volume.state == "Starting" and kinds.count("START_BRICK") == 3, (volume.state, kinds)
