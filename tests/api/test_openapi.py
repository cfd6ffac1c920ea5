"""The OpenAPI document lists every error an operation can answer, all with the one error body.

Finding 15: the document had only 2xx and 422 (with a list `detail`), while the API answered
400/401/403/404/409 and service 422s with a string `detail`. The fuzz test (tests/api_fuzz)
checks the answers against this document; these tests pin the rules that build it.
"""
import pytest

from controlplane.api.app import create_app
from controlplane.settings import Settings
from tests.conftest import REDIS_URL

ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def doc(tmp_path_factory):
    root = tmp_path_factory.mktemp("openapi")
    settings = Settings(state_dir=root, database_url=f"sqlite:///{root / 'db'}", broker_url=REDIS_URL, secret_key="k")
    return create_app(settings, sender=object()).openapi()


def operations(doc):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield f"{method.upper()} {path}", op


def test_every_error_response_of_every_operation_is_the_error_body(doc):
    for name, op in operations(doc):
        errors = {code: r for code, r in op["responses"].items() if code[0] in "45"}
        assert errors, name
        for code, response in errors.items():
            assert response["content"]["application/json"]["schema"] == ERROR_REF, (name, code)
    schemas = doc["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and schemas["ErrorBody"]["properties"]["detail"]["type"] == "string"


def test_codes_implied_by_an_operations_shape_are_always_listed(doc):
    for name, op in operations(doc):
        codes = set(op["responses"])
        assert "503" in codes, name
        if op.get("security"):
            assert "401" in codes, name
        if "requestBody" in op:
            assert {"400", "413", "422"} <= codes, name
        if op.get("parameters"):
            assert "422" in codes, name
        if any(p["in"] == "path" for p in op.get("parameters", [])):
            assert "404" in codes, name


def test_service_outcomes_are_documented_where_they_happen(doc):
    ops = dict(operations(doc))
    assert {"401", "429"} <= set(ops["POST /api/v1/auth/login"]["responses"])
    assert ops["POST /api/v1/auth/login"]["responses"]["429"]["headers"]["Retry-After"]["required"]
    assert {"403", "404", "409"} <= set(ops["DELETE /api/v1/clusters/{cluster}"]["responses"])
    assert {"403", "409"} <= set(ops["POST /api/v1/clusters"]["responses"])
    assert {"401", "409", "422"} <= set(ops["POST /api/v1/agent/register"]["responses"])
    assert "403" in ops["POST /api/v1/agent/heartbeat"]["responses"]
    assert "403" not in ops["GET /api/v1/clusters"]["responses"]  # nothing there checks a role


def test_agent_endpoints_document_node_credentials_and_metrics_stays_out(doc):
    ops = dict(operations(doc))
    assert ops["GET /api/v1/agent/metadata"]["security"] == [{"NodeCredentials": []}]
    assert ops["GET /api/v1/clusters"]["security"] == [{"HTTPBearer": []}]
    assert "/metrics" not in doc["paths"]


def test_created_resources_link_to_their_operations_by_name(doc):
    links = doc["paths"]["/api/v1/clusters"]["post"]["responses"]["201"]["links"]
    assert links and all(link["parameters"]["cluster"] == "$response.body#/cluster/name" for link in links.values())
