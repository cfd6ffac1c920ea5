"""Finding 7: 12 concurrent POST /auth/first-user on a fresh server created 3 admins. Now exactly one
wins, on SQLite and PostgreSQL, with the requests spread over two real API server processes."""
import threading

import httpx
from sqlalchemy import create_engine, func
from sqlmodel import Session, select

from controlplane.models import BootstrapClaim, Grant, User
from tests.api.api_servers import api_servers, empty_database

RACERS = 12


def test_twelve_concurrent_first_users_make_exactly_one_admin(database_url, tmp_path):
    empty_database(database_url)
    try:
        with api_servers(database_url, tmp_path / "server", count=2) as urls:
            start = threading.Barrier(RACERS)
            answers: list[httpx.Response] = [None] * RACERS  # type: ignore[list-item]

            def claim(n: int) -> None:
                body = {"username": f"admin{n}", "password": f"first-admin-pw-{n}"}
                start.wait()
                answers[n] = httpx.post(f"{urls[n % len(urls)]}/api/v1/auth/first-user", json=body, timeout=60)

            threads = [threading.Thread(target=claim, args=(n,)) for n in range(RACERS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()

            codes = sorted(r.status_code for r in answers)
            assert codes == [201] + [409] * (RACERS - 1), [(r.status_code, r.text) for r in answers]
            loser = next(r for r in answers if r.status_code == 409)
            assert "kadalu login" in loser.json()["detail"]
            winner = next(r for r in answers if r.status_code == 201).json()["username"]
            engine = create_engine(database_url)
            with Session(engine) as s:
                assert s.exec(select(func.count()).select_from(User)).one() == 1
                assert s.exec(select(User.username)).one() == winner
                assert [(g.role, g.scope) for g in s.exec(select(Grant))] == [("admin", "all")]
                assert s.exec(select(BootstrapClaim.name)).all() == ["first-user"]
            engine.dispose()
            # and the claim holds afterwards too
            late = httpx.post(f"{urls[0]}/api/v1/auth/first-user",
                              json={"username": "late", "password": "somebody-else-entirely"}, timeout=30)
            assert late.status_code == 409
    finally:
        empty_database(database_url)
