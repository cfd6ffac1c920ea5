"""Who may do what: roles (viewer < maintainer < admin) granted on a scope."""
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from controlplane.models import Grant, User
from controlplane.services.errors import Forbidden

ROLES = ("viewer", "maintainer", "admin")
SCOPES = ("all", "cluster", "node", "device", "volume")
RANK = {role: n for n, role in enumerate(ROLES, start=1)}
READ, WRITE, MANAGE = RANK["viewer"], RANK["maintainer"], RANK["admin"]
_NEEDED = {READ: "viewer", WRITE: "maintainer", MANAGE: "admin"}


@dataclass
class Access:
    user: User
    grants: list[Grant] = field(default_factory=list)

    def global_rank(self) -> int:
        return max((RANK[g.role] for g in self.grants if g.scope == "all"), default=0)

    def cluster_rank(self, cluster_id: str) -> int:
        ranks = [RANK[g.role] for g in self.grants if g.scope == "cluster" and g.cluster_id == cluster_id]
        return max([self.global_rank(), *ranks])

    def resource_rank(self, cluster_id: str, refs: tuple[tuple[str, str], ...]) -> int:
        direct = [
            RANK[g.role]
            for g in self.grants
            if g.cluster_id == cluster_id and (g.scope, g.resource_id) in refs
        ]
        return max([self.cluster_rank(cluster_id), *direct])

    def sees_cluster(self, cluster_id: str) -> bool:
        return self.global_rank() > 0 or any(g.cluster_id == cluster_id for g in self.grants)

    def sees_resource(self, cluster_id: str, refs: tuple[tuple[str, str], ...]) -> bool:
        return self.resource_rank(cluster_id, refs) >= READ

    def require_global(self, needed: int) -> None:
        if self.global_rank() < needed:
            raise Forbidden(
                f"this needs the {_NEEDED[needed]} role on scope 'all'; user {self.user.username!r} "
                "does not have it: ask an admin to run `kadalu user grant`"
            )

    def require(self, needed: int, cluster_id: str, what: str, refs: tuple[tuple[str, str], ...] = ()) -> None:
        if self.resource_rank(cluster_id, refs) < needed:
            raise Forbidden(
                f"{what}: this needs the {_NEEDED[needed]} role; user {self.user.username!r} does not "
                "have it on this scope: ask an admin to run `kadalu user grant`"
            )


def load_access(session: Session, user: User) -> Access:
    grants = list(session.exec(select(Grant).where(col(Grant.user_id) == user.id)))
    return Access(user=user, grants=grants)
