from fastapi import APIRouter
from sqlalchemy import text

from controlplane.api.deps import SessionDep

router = APIRouter(tags=["health"])


@router.get("/health")
def read_health(session: SessionDep):
    """Liveness and database reachability; no authentication."""
    session.execute(text("SELECT 1"))
    return {"status": "ok", "database": "ok"}
