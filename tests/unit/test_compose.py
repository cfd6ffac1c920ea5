"""Structural checks of the Docker Compose files in compose/ (no Docker engine needed).

What a user relies on: every server process shares one KADALU_SECRET_KEY, exactly one beat,
health-checked API replicas behind the load balancer, a standby database in the HA file,
`depends_on` naming real services, and only KADALU_* variables the settings classes know
(pydantic-settings ignores unknown ones silently, so a typo would be a silent misconfiguration).
"""
import re
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from controlplane.settings import Settings
from nodeagent.settings import AgentSettings

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose"
FILES = {"single": COMPOSE / "single" / "compose.yaml", "ha": COMPOSE / "ha" / "compose.yaml"}
SERVER_COMMANDS = {"api", "worker", "heartbeat-worker", "beat", "flower", "migrate"}
VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)[^}]*\}")


def load(kind: str) -> dict:
    return yaml.safe_load(FILES[kind].read_text())


def services(kind: str) -> dict[str, dict]:
    return load(kind)["services"]


def is_agent(svc: dict) -> bool:
    return (svc.get("build") or {}).get("target") == "agent"


def is_server(svc: dict) -> bool:
    return (svc.get("build") or {}).get("target") == "server"


def server_services(kind: str) -> dict[str, dict]:
    found = {name: svc for name, svc in services(kind).items() if is_server(svc)}
    assert found, f"{kind}: no Kadalu server service found"
    return found


def command(svc: dict) -> str:
    cmd = svc.get("command")
    return cmd[0] if isinstance(cmd, list) else str(cmd or "")


def env(svc: dict) -> dict[str, str]:
    e = svc.get("environment") or {}
    if isinstance(e, list):  # the "KEY=value" list form
        e = dict(item.split("=", 1) if "=" in item else (item, "") for item in e)
    return {k: "" if v is None else str(v) for k, v in e.items()}


def substituted(value: str) -> str:
    """Compose's ${VAR}, ${VAR:-default}, ${VAR:?message} with a harmless stand-in value."""
    return VAR.sub(lambda m: "x" + m.group(1).lower().replace("_", ""), value)


def by_command(kind: str, name: str) -> list[str]:
    return [n for n, svc in server_services(kind).items() if command(svc) == name]


@pytest.fixture(params=sorted(FILES))
def kind(request) -> str:
    return request.param


def test_compose_files_parse_and_have_services(kind):
    data = load(kind)
    assert isinstance(data.get("services"), dict) and data["services"]
    for name, svc in data["services"].items():
        assert "image" in svc or "build" in svc, f"{kind}/{name}: neither image nor build"


# The Compose-spec service keys these files may use; catches typos such as `depend_on`, which
# Compose would refuse but this test suite could not otherwise notice without a Docker engine.
SERVICE_KEYS = {
    "build", "command", "depends_on", "entrypoint", "environment", "healthcheck", "hostname", "image",
    "ports", "privileged", "profiles", "restart", "volumes", "deploy", "networks", "env_file", "user", "secrets",
}


def test_services_use_only_known_compose_keys(kind):
    for name, svc in services(kind).items():
        unknown = sorted(set(svc) - SERVICE_KEYS)
        assert not unknown, f"{kind}/{name}: unknown service keys {unknown}"
        assert svc.get("restart", "no") in ("no", "always", "on-failure", "unless-stopped"), f"{kind}/{name}"
        for dep in (svc.get("depends_on") or {}).values() if isinstance(svc.get("depends_on"), dict) else ():
            assert dep.get("condition") in ("service_started", "service_healthy", "service_completed_successfully")


def test_server_services_run_a_kadalu_server_command(kind):
    for name, svc in server_services(kind).items():
        assert command(svc) in SERVER_COMMANDS, f"{kind}/{name}: unknown kadalu-server command {svc.get('command')}"


def test_every_server_service_shares_one_secret_key_reference(kind):
    refs = {name: env(svc).get("KADALU_SECRET_KEY") for name, svc in server_services(kind).items()}
    missing = [n for n, ref in refs.items() if not ref]
    assert not missing, f"{kind}: no KADALU_SECRET_KEY for {missing}: node secrets would differ per process"
    assert len(set(refs.values())) == 1, f"{kind}: KADALU_SECRET_KEY differs between services: {refs}"
    (ref,) = set(refs.values())
    assert VAR.fullmatch(ref), f"{kind}: KADALU_SECRET_KEY should come from the environment (.env), not be inline"


def test_agents_never_get_the_server_secret_key(kind):
    for name, svc in services(kind).items():
        if is_agent(svc):
            assert "KADALU_SECRET_KEY" not in env(svc), f"{kind}/{name}: a node agent must not hold the server key"


def test_exactly_one_beat(kind):
    beats = by_command(kind, "beat")
    assert len(beats) == 1, f"{kind}: {len(beats)} beat services {beats}: every schedule would fire that many times"
    deploy = server_services(kind)[beats[0]].get("deploy") or {}
    assert deploy.get("replicas", 1) == 1


def test_a_one_shot_migrate_service_that_the_others_wait_for(kind):
    (migrate,) = by_command(kind, "migrate")
    assert server_services(kind)[migrate].get("restart") == "no"
    for name, svc in server_services(kind).items():
        if name == migrate:
            continue
        dep = (svc.get("depends_on") or {}).get(migrate)
        assert dep and dep.get("condition") == "service_completed_successfully", f"{kind}/{name} does not wait for {migrate}"


def test_api_services_have_health_checks_on_the_health_endpoint(kind):
    apis = by_command(kind, "api")
    assert apis
    for name in apis:
        check = server_services(kind)[name].get("healthcheck") or {}
        assert "/api/v1/health" in " ".join(check.get("test") or []), f"{kind}/{name}: no healthcheck on /api/v1/health"


def test_depends_on_names_existing_services(kind):
    svcs = services(kind)
    for name, svc in svcs.items():
        deps = svc.get("depends_on") or {}
        for dep in deps if isinstance(deps, list) else deps.keys():
            assert dep in svcs, f"{kind}/{name} depends on unknown service {dep!r}"
            assert dep != name


def test_kadalu_variables_are_real_settings_fields(kind):
    server_fields = {f"KADALU_{f.upper()}" for f in Settings.model_fields}
    agent_fields = {f"KADALU_{f.upper()}" for f in AgentSettings.model_fields}
    for name, svc in services(kind).items():
        known = agent_fields if is_agent(svc) else server_fields
        unknown = sorted(k for k in env(svc) if k.startswith("KADALU_") and k not in known)
        assert not unknown, f"{kind}/{name}: {unknown} are not fields of {'AgentSettings' if is_agent(svc) else 'Settings'}"


def test_server_environment_is_valid_for_settings(kind, monkeypatch):
    for name, svc in server_services(kind).items():
        for key in list(Settings.model_fields):
            monkeypatch.delenv(f"KADALU_{key.upper()}", raising=False)
        for key, value in env(svc).items():
            monkeypatch.setenv(key, substituted(value))
        settings = Settings()  # raises on a value of the wrong type
        assert settings.database_url and settings.database_url.startswith("postgresql+psycopg://"), name
        assert settings.broker_url and settings.broker_url.startswith(("redis://", "rediss://")), name
        assert settings.effective_agent_broker_url, name
        assert settings.secret_key, name
        if command(svc) == "flower":
            # Without it Flower would invent a password into its container's state dir.
            assert settings.flower_basic_auth, f"{kind}/{name}: Flower without KADALU_FLOWER_BASIC_AUTH"
        engine = create_engine(settings.database_url)  # parses the URL; connects to nothing
        assert engine.dialect.driver == "psycopg"
        engine.dispose()


def test_agent_environment_is_valid_for_agent_settings(monkeypatch):
    agents = {n: s for n, s in services("single").items() if is_agent(s)}
    for name, svc in agents.items():
        for key in list(AgentSettings.model_fields):
            monkeypatch.delenv(f"KADALU_{key.upper()}", raising=False)
        for key, value in env(svc).items():
            monkeypatch.setenv(key, substituted(value))
        agent = AgentSettings()
        assert agent.url.startswith("http") and agent.name and agent.address, name


def test_every_referenced_variable_is_listed_in_env_example(kind):
    text = FILES[kind].read_text()
    example = (FILES[kind].parent / "env.example").read_text()
    listed = set(re.findall(r"^([A-Z_][A-Z0-9_]*)=", example, re.M))
    # Only real references: strip comments and compose's $$ escapes first.
    code = "\n".join(line.split(" #")[0] for line in text.splitlines() if not line.lstrip().startswith("#"))
    used = set(VAR.findall(code.replace("$$", "")))
    assert used <= listed, f"{kind}: {sorted(used - listed)} are used but not in env.example"


def test_local_files_mounted_or_built_exist(kind):
    base = FILES[kind].parent
    for name, svc in services(kind).items():
        for vol in svc.get("volumes") or []:
            source = vol.split(":", 1)[0] if isinstance(vol, str) else vol.get("source", "")
            if source.startswith("."):
                assert (base / source).exists(), f"{kind}/{name}: {source} does not exist"
        build = svc.get("build")
        if build:
            context = (base / build["context"]).resolve()
            assert (context / build.get("dockerfile", "Dockerfile")).is_file(), f"{kind}/{name}: no Dockerfile"
            assert (context / "pyproject.toml").is_file(), f"{kind}/{name}: build context is not the project root"


def test_dockerfile_builds_from_python_311_slim_with_constraints():
    text = (COMPOSE / "Dockerfile").read_text()
    assert "FROM python:3.11-slim-bookworm" in text
    assert "pip install -c constraints.txt ." in text
    assert re.search(r"^FROM .* AS server$", text, re.M), "the server stage is what compose builds"


def test_dockerfile_copies_every_package_the_project_installs():
    # pip installs only what is in the build context: a package left out imports nowhere in the image.
    include = re.search(r'^include = \[(.*)\]$', (ROOT / "pyproject.toml").read_text(), re.M)
    assert include, "pyproject.toml: [tool.setuptools.packages.find] include"
    packages = {name.strip(' "*') for name in include.group(1).split(",")}
    copied = set(re.findall(r"^COPY (\w+) \./\1$", (COMPOSE / "Dockerfile").read_text(), re.M))
    assert packages and packages <= copied, f"compose/Dockerfile does not COPY {sorted(packages - copied)}"


def test_ha_has_several_api_replicas_behind_the_load_balancer():
    apis = by_command("ha", "api")
    assert len(apis) >= 2, f"HA needs >= 2 API replicas, has {apis}"
    haproxy = (COMPOSE / "ha" / "haproxy" / "haproxy.cfg").read_text()
    backend = re.split(r"^backend kadalu_api$", haproxy, flags=re.M)[1]
    backend = re.split(r"^(?:backend|frontend|listen) ", backend, flags=re.M)[0]
    assert "/api/v1/health" in backend
    balanced = set(re.findall(r"^\s*server\s+\S+\s+([\w.-]+):8080", backend, re.M))
    assert balanced == set(apis), f"load balancer sends to {sorted(balanced)}, API services are {sorted(apis)}"


def test_ha_has_two_or_more_control_workers_and_a_standby_database():
    assert len(by_command("ha", "worker")) >= 2
    assert len(by_command("ha", "heartbeat-worker")) >= 2
    assert by_command("single", "heartbeat-worker"), "heartbeats have their own worker"
    svcs = services("ha")
    standbys = [n for n, s in svcs.items() if "PRIMARY_HOST" in env(s)]
    assert standbys, "HA needs a streaming-replication standby"
    for name in standbys:
        assert env(svcs[name])["PRIMARY_HOST"] in svcs
    url = env(server_services("ha")["api1"])["KADALU_DATABASE_URL"]
    assert "target_session_attrs=read-write" in url and all(f"host={s}" in url for s in standbys), (
        "the database URL must list the standby too, so clients follow a promotion"
    )


def test_ha_redis_has_a_replica_and_three_sentinels():
    svcs = services("ha")
    replicas = [n for n, s in svcs.items() if env(s).get("REDIS_REPLICAOF")]
    sentinels = [n for n, s in svcs.items() if "sentinel" in " ".join(s.get("entrypoint") or [])]
    assert len(replicas) == 1 and len(sentinels) == 3
    conf = (COMPOSE / "ha" / "redis" / "sentinel.conf").read_text()
    monitor = re.search(r"^sentinel monitor (\S+) (\S+) (\d+) (\d+)$", conf, re.M)
    assert monitor and monitor.group(2) in svcs and int(monitor.group(4)) == 2  # quorum: 2 of 3
