"""Finding 6: the last admin of everything could revoke their own grant, leaving an API nobody can
manage (first-user is refused once a user exists). No change may remove the last one."""
import threading

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from controlplane.models import Grant, User
from controlplane.services import grants, users
from controlplane.services.errors import Conflict


def _admin_grant_id(admin) -> str:
    return next(g["id"] for g in admin.get("/auth/me").json()["grants"] if g["role"] == "admin")


def _admins_of_all(client) -> list[str]:
    with Session(client.app.state.engine) as s:
        rows = s.exec(select(User.username).join(Grant, Grant.user_id == User.id)
                      .where(Grant.role == "admin", Grant.scope == "all"))
        return sorted(rows)


def test_last_admin_cannot_remove_their_own_admin_grant(client, admin):
    r = admin.delete(f"/users/admin/grants/{_admin_grant_id(admin)}")
    assert r.status_code == 409
    assert "no user with the admin role on scope 'all'" in r.json()["detail"]
    assert "kadalu user grant NAME admin" in r.json()["detail"]
    assert _admins_of_all(client) == ["admin"]
    assert admin.get("/users").status_code == 200


@pytest.mark.parametrize("role", ["maintainer", "viewer"])
def test_last_admin_cannot_replace_their_grant_with_a_lower_role(client, admin, role):
    r = admin.post("/users/admin/grants", {"role": role})
    assert r.status_code == 409
    assert _admins_of_all(client) == ["admin"]
    assert admin.get("/users").status_code == 200


def test_a_lower_role_on_a_cluster_does_not_touch_the_admin_grant(client, admin):
    admin.make_cluster("c1")
    assert admin.post("/users/admin/grants", {"role": "viewer", "scope": "cluster", "cluster": "c1"}).status_code == 201
    assert _admins_of_all(client) == ["admin"]


def test_last_admin_cannot_be_deleted_by_a_user_manager(client, admin):
    """Only admins manage users, so the way to try it is two admins: one deletes the other, then
    the survivor is the last and cannot be deleted (the survivor cannot delete themselves either)."""
    bob = admin.make_user("bob", "admin")
    assert bob.delete("/users/admin").status_code == 204
    r = bob.delete("/users/bob")
    assert r.status_code == 409
    assert _admins_of_all(client) == ["bob"]


def test_with_two_admins_either_may_step_down(client, admin):
    admin.make_user("bob", "admin")
    assert admin.delete(f"/users/admin/grants/{_admin_grant_id(admin)}").status_code == 204
    assert _admins_of_all(client) == ["bob"]


def test_deleting_an_admin_checks_the_others_are_admins_of_everything(client, admin):
    """An admin of one cluster does not count: deleting the only admin of everything is refused."""
    admin.make_cluster("c1")
    carol = admin.make_user("carol", "admin", scope="cluster", cluster="c1")
    dave = admin.make_user("dave", "admin")
    assert dave.delete("/users/admin").status_code == 204
    assert admin.get("/users").status_code == 401  # admin's tokens went with the user
    r = dave.post("/users/dave/grants", {"role": "viewer"})
    assert r.status_code == 409
    assert carol.get("/users").status_code == 403
    assert _admins_of_all(client) == ["dave"]


def _pause_after_reading_admins(engine, barrier: threading.Barrier):
    """Hold each thread right after it has read the admins until the other one has read them too
    (or 2 s have passed): without a lock both see two admins and both demote; with the lock the
    second one waits inside its read, the first goes on alone after the timeout."""
    def after(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and 'FROM "grant"' in statement and "admin" in str(parameters):
            try:
                barrier.wait(timeout=2)
            except threading.BrokenBarrierError:
                pass
    event.listen(engine, "after_cursor_execute", after)
    return after


@pytest.mark.parametrize("how", ["remove_grant", "demote", "delete_user"])
def test_two_admins_demoting_each_other_at_once_leave_one_admin(client, admin, how):
    admin.make_user("bob", "admin")
    engine = client.app.state.engine
    with Session(engine) as s:
        ids = {u.username: u.id for u in s.exec(select(User))}
        grant_of = {g.user_id: g.id for g in s.exec(select(Grant).where(Grant.role == "admin"))}
    listener = _pause_after_reading_admins(engine, threading.Barrier(2))
    outcomes: dict[str, str] = {}

    def demote(actor: str, target: str) -> None:
        with Session(engine, expire_on_commit=False) as s:
            try:
                if how == "remove_grant":
                    grants.remove_grant(s, target, grant_of[ids[target]])
                elif how == "demote":
                    grants.add_grant(s, target, "viewer", "all", None, None)
                else:
                    acting = s.get(User, ids[actor])
                    if acting is None:  # deleted by the other one first: the API answers its token 401
                        outcomes[actor] = "refused: the acting user is gone"
                        return
                    users.delete_user(s, target, acting)
                outcomes[actor] = "done"
            except Conflict as exc:
                outcomes[actor] = f"refused: {exc.message}"
            except OperationalError as exc:  # SQLite: a read snapshot that cannot become a write (the API answers 503)
                outcomes[actor] = f"busy: {exc}"

    threads = [threading.Thread(target=demote, args=pair) for pair in (("admin", "bob"), ("bob", "admin"))]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        event.remove(engine, "after_cursor_execute", listener)
    first, second = sorted(o.split(":")[0] for o in outcomes.values())
    assert first == "done" and second in ("refused", "busy"), outcomes
    assert len(_admins_of_all(client)) == 1
