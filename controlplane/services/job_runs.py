"""When beat's jobs last finished, so that /metrics can tell a health check that stopped running
(beat or the control worker down) from a healthy cluster."""
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from controlplane.db import rowcount, utcnow
from controlplane.models import JobRun


def finished(session: Session, name: str) -> None:
    now = utcnow()
    if rowcount(session.execute(update(JobRun).where(col(JobRun.name) == name).values(last_run_at=now))) == 0:
        session.add(JobRun(name=name, last_run_at=now))
        try:
            session.commit()
        except IntegrityError:  # another run inserted it first: its stamp is as good
            session.rollback()
        return
    session.commit()


def last_runs(session: Session) -> dict[str, float]:
    """Job name -> Unix time of its last finished run."""
    return {r.name: r.last_run_at.timestamp() for r in session.exec(select(JobRun))}
