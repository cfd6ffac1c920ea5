"""The per-address limit on a real `kadalu-server api` process: X-Forwarded-For from a local client
is not believed unless KADALU_TRUSTED_PROXIES says so (uvicorn by default believes it from 127.0.0.1)."""
import httpx

from tests.api.api_servers import api_servers, empty_database


def _fail(url: str, n: int, forwarded_for: str) -> httpx.Response:
    return httpx.post(f"{url}/api/v1/auth/login", json={"username": f"guess{n}", "password": "wrong-password-1"},
                      headers={"X-Forwarded-For": forwarded_for}, timeout=30)


def test_a_forged_forwarded_for_does_not_escape_the_address_limit(sqlite_database, tmp_path):
    empty_database(sqlite_database)
    try:
        with api_servers(sqlite_database, tmp_path / "server", count=1, login_max_failures_per_address="3") as (url,):
            codes = [_fail(url, n, f"198.51.100.{n}").status_code for n in range(4)]
            assert codes == [401, 401, 401, 429]
    finally:
        empty_database(sqlite_database)


def test_a_trusted_proxy_names_the_client(sqlite_database, tmp_path):
    empty_database(sqlite_database)
    try:
        with api_servers(sqlite_database, tmp_path / "server", count=1, login_max_failures_per_address="3",
                         trusted_proxies="127.0.0.1") as (url,):
            codes = [_fail(url, n, f"198.51.100.{n}").status_code for n in range(4)]
            assert codes == [401] * 4  # four clients, one failure each
            assert [_fail(url, n, "198.51.100.9").status_code for n in range(4)] == [401, 401, 401, 429]
    finally:
        empty_database(sqlite_database)
