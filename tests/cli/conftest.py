"""Fixtures for the CLI tests: a private config dir, a fake server injected as the client's
transport (`cli.client.transport_override`), a logged-in session and a CliRunner wrapper."""

from __future__ import annotations

import httpx
import pytest
from typer.testing import CliRunner

import cli.client
import cli.output
import cli.tasks_wait
from cli import config
from cli.main import app
from tests.cli.cli_fakes import BASE_URL, TOKEN, FakeServer


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """Token file under tmp, no URL/password from the environment, wide tables, fast polls."""
    monkeypatch.setenv("KADALU_CONFIG_DIR", str(tmp_path / "kadalu-config"))
    monkeypatch.delenv("KADALU_URL", raising=False)
    monkeypatch.delenv("KADALU_PASSWORD", raising=False)
    monkeypatch.setattr(cli.output.console, "width", 200)
    monkeypatch.setattr(cli.output.err_console, "width", 200)
    monkeypatch.setattr(cli.tasks_wait, "POLL_INTERVAL", 0)
    return tmp_path / "kadalu-config"


@pytest.fixture
def server(monkeypatch):
    fake = FakeServer()
    monkeypatch.setattr(cli.client, "transport_override", httpx.MockTransport(fake.handle))
    yield fake
    assert not fake.unexpected, f"requests the test did not expect: {fake.unexpected}"


@pytest.fixture
def logged_in():
    config.save_session(
        config.Session(url=BASE_URL, token=TOKEN, username="admin",
                       expires_at="2030-01-01T00:00:00Z")
    )


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None, env: dict | None = None):
        return runner.invoke(app, list(args), input=input, env=env)

    return invoke
