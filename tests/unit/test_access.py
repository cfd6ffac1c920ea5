from controlplane.models import Grant, User
from controlplane.services.access import MANAGE, READ, WRITE, Access


def access(*grants):
    return Access(User(username="u", password_hash="x"), [Grant(user_id="u", **g) for g in grants])


def test_global_admin_can_everything():
    a = access({"role": "admin", "scope": "all"})
    assert a.resource_rank("c1", (("node", "n1"),)) == MANAGE and a.sees_cluster("c2")


def test_cluster_viewer_reads_only_its_cluster():
    a = access({"role": "viewer", "scope": "cluster", "cluster_id": "c1"})
    assert a.cluster_rank("c1") == READ and a.cluster_rank("c2") == 0
    assert a.sees_cluster("c1") and not a.sees_cluster("c2")


def test_node_grant_covers_the_node_but_not_its_neighbours():
    a = access({"role": "maintainer", "scope": "node", "cluster_id": "c1", "resource_id": "n1"})
    assert a.resource_rank("c1", (("node", "n1"),)) == WRITE
    assert a.resource_rank("c1", (("node", "n2"),)) == 0
    assert a.cluster_rank("c1") == 0 and a.sees_cluster("c1")
