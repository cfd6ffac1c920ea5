"""The OpenAPI document: every error code an operation can answer, each with the one error body.

Routes declare the codes their services answer (403, 404, 409, ...) with `responses=errors(...)`;
the codes that follow from the shape of an operation are added here, so no route can forget them:
400 and 413 when it takes a body, 401 when it takes credentials, 422 when it has any parameter or
a body, and 503 always (every operation reads the database).

Links say how a created resource is addressed afterwards: by its name (clusters, volumes, users)
or its id (devices, grants), never by a field a client could mistake for it.
"""
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from controlplane.api.errors import METHODS, ErrorBody, error_response_doc

P = "/api/v1"
# (creating operation, its success code, the path it creates, parameter -> runtime expression)
LINKS = [
    (("post", f"{P}/clusters"), "201", f"{P}/clusters/{{cluster}}", {"cluster": "$response.body#/cluster/name"}),
    (("post", f"{P}/clusters/{{cluster}}/volumes"), "202", f"{P}/clusters/{{cluster}}/volumes/{{volume}}",
     {"cluster": "$request.path.cluster", "volume": "$response.body#/name"}),
    (("post", f"{P}/clusters/{{cluster}}/nodes/{{node}}/devices"), "202", f"{P}/clusters/{{cluster}}/devices/{{device_id}}",
     {"cluster": "$request.path.cluster", "device_id": "$response.body#/device/id"}),
    (("post", f"{P}/users"), "201", f"{P}/users/{{username}}", {"username": "$response.body#/username"}),
    (("post", f"{P}/users/{{username}}/grants"), "201", f"{P}/users/{{username}}/grants/{{grant_id}}",
     {"username": "$request.path.username", "grant_id": "$response.body#/id"}),
]


def implied_codes(operation: dict) -> list[int]:
    codes = [503]
    if "requestBody" in operation:
        codes += [400, 413]
    if operation.get("security"):
        codes.append(401)
    if operation.get("parameters") or "requestBody" in operation:
        codes.append(422)
    return codes


def _error_components() -> dict:
    schema = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    components = schema.pop("$defs", {})
    components["ErrorBody"] = schema
    return components


def build(app: FastAPI) -> dict:
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for fastapi_default in ("HTTPValidationError", "ValidationError"):  # replaced by ErrorBody
        components.pop(fastapi_default, None)
    components.update(_error_components())
    for path_item in schema.get("paths", {}).values():
        for method in METHODS:
            operation = path_item.get(method)
            if operation is None:
                continue
            implied = {str(code): error_response_doc(code) for code in implied_codes(operation)}
            operation["responses"] = dict(sorted({**operation["responses"], **implied}.items()))
    _add_links(schema["paths"])
    return schema


def _add_links(paths: dict) -> None:
    for (method, producer), status, created, parameters in LINKS:
        links = paths[producer][method]["responses"][status].setdefault("links", {})
        for path, path_item in paths.items():
            if path != created and not path.startswith(created + "/"):
                continue
            for target_method, target in path_item.items():
                if target_method in METHODS:
                    links[target["operationId"]] = {
                        "operationId": target["operationId"],
                        "parameters": {name: expr for name, expr in parameters.items() if f"{{{name}}}" in path}}


def install(app: FastAPI) -> None:
    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = build(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to customise the schema
