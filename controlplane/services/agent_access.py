"""What a registered agent is handed to reach the broker: its own Redis ACL user (see
controlplane/broker_users.py), or, where the broker has no ACLs (KADALU_BROKER_ACL=false), the
shared agent URL."""
import logging

import redis

from controlplane.broker_users import BrokerUsers
from controlplane.models import Node
from controlplane.services.errors import Invalid, Unavailable
from controlplane.settings import Settings

log = logging.getLogger(__name__)


def broker_users(settings: Settings) -> BrokerUsers | None:
    if not settings.broker_acl or not settings.broker_url:
        return None
    return BrokerUsers(settings.broker_url, settings.effective_agent_broker_url or settings.broker_url,
                       settings.effective_secret_key, settings.broker_master_name)


def broker_url_for(users: BrokerUsers | None, settings: Settings, node: Node) -> str:
    """The broker URL for `node`'s current secret generation; its user (re)made with that password,
    connections made with the previous one closed."""
    if users is None:
        url = settings.effective_agent_broker_url
        if not url:
            raise Invalid("the server has no broker URL for agents: set KADALU_BROKER_URL or KADALU_AGENT_BROKER_URL")
        return url
    try:
        users.rotate(node.id, node.secret_generation)
    except redis.ResponseError as exc:
        log.error("the broker refused to manage the ACL user of node %s: %s", node.name, exc)
        raise Unavailable("the broker refused to create this node's broker user: give the control plane's Redis user "
                          "the `acl` and `client` commands, or set KADALU_BROKER_ACL=false (every agent then shares "
                          "one broker login; see docs/security.md)") from None
    except redis.RedisError as exc:
        log.warning("broker unreachable while registering node %s: %s", node.name, exc)
        raise Unavailable("the broker is unreachable: the agent retries its registration shortly") from None
    return users.url_for(node.id, node.secret_generation)


def revoke(users: BrokerUsers | None, node_id: str) -> None:
    """Best effort at node removal: beat's sync deletes users of removed nodes anyway."""
    if users is None:
        return
    try:
        users.remove(node_id)
    except redis.RedisError as exc:
        log.warning("could not delete the broker user of removed node %s yet (beat retries): %s", node_id, exc)
