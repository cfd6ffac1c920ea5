"""The one place that knows how a task message reaches a node: queue `node.<node-id>`, result
callback to queue `controlplane`. Contract-tested in tests/unit/test_dispatch.py."""
import redis
from celery import Celery

from contracts.messages import TaskMessage
from contracts.task_names import AGENT_RUN, CONTROLPLANE_QUEUE, TASK_RESULT, node_queue


class CelerySender:
    def __init__(self, app: Celery):
        self.app = app

    def send(self, message: TaskMessage) -> None:
        self.app.send_task(
            AGENT_RUN,
            args=[message.model_dump()],
            queue=node_queue(message.node_id),
            task_id=message.task_id,
            link=self.app.signature(TASK_RESULT, queue=CONTROLPLANE_QUEUE),
        )


class BrokerQueues:
    """Looks into Redis for a task's message: waiting in the node's list or unacked by its worker."""

    def __init__(self, broker_url: str):
        self.client = redis.Redis.from_url(broker_url, socket_timeout=10)

    def message_present(self, node_id: str, task_id: str) -> bool:
        needle = task_id.encode()
        queue = node_queue(node_id)
        if any(needle in raw for raw in self.client.lrange(queue, 0, -1)):
            return True
        unacked = self.client.hvals(f"kadalu.{queue}.unacked")
        return any(needle in raw for raw in unacked)
