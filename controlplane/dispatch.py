"""The one place that knows how a task message reaches a node: signed with the node's secret, on
queue `node.<node-id>`. The agent sends the result itself, signed, to queue `controlplane` (a
message carries no callback the agent would follow). Contract-tested in
tests/unit/test_message_contract.py."""
from celery import Celery

from contracts import signing
from contracts.messages import TaskMessage
from contracts.task_names import AGENT_RUN, node_queue
from controlplane import broker_client
from controlplane.security import node_secret


def signed_task(message: TaskMessage, secret_key: str) -> dict:
    """The envelope an agent receives: the message, signed with the secret of the generation it names."""
    secret = node_secret(secret_key, message.node_id, message.key_generation)
    return signing.sign(message.node_id, secret, message.model_dump(mode="json"), generation=message.key_generation)


class CelerySender:
    def __init__(self, app: Celery, secret_key: str):
        self.app = app
        self.secret_key = secret_key

    def send(self, message: TaskMessage) -> None:
        self.app.send_task(
            AGENT_RUN,
            args=[signed_task(message, self.secret_key)],
            queue=node_queue(message.node_id),
            task_id=message.task_id,
        )


class BrokerQueues:
    """Looks into Redis for a task's message: waiting in the node's list or unacked by its worker."""

    def __init__(self, broker_url: str, master_name: str | None = None):
        self.client = broker_client.master(broker_url, master_name, socket_timeout=10)

    def message_present(self, node_id: str, task_id: str) -> bool:
        needle = task_id.encode()
        queue = node_queue(node_id)
        if any(needle in raw for raw in self.client.lrange(queue, 0, -1)):
            return True
        unacked = self.client.hvals(f"kadalu.{queue}.unacked")
        return any(needle in raw for raw in unacked)
