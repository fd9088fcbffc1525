"""The one route table and API Gateway-style matching."""

from __future__ import annotations

from functions.api.routes import ROUTES, by_operation, resolve
from workers.contract import scopes


def test_literal_segments_win_over_parameters() -> None:
    route, params = resolve("POST", "/v1/tasks/batch") or (None, None)
    assert route is not None and route.operation_id == "submit_batch"
    assert params == {}
    route, params = resolve("GET", "/v1/tasks/abc") or (None, None)
    assert route is not None and route.route_key == "GET /v1/tasks/{id}"
    assert params == {"id": "abc"}


def test_unknown_paths_and_methods_do_not_match() -> None:
    assert resolve("GET", "/v1/nope") is None
    assert resolve("DELETE", "/v1/tasks") is None


def test_powertools_paths_use_angle_brackets() -> None:
    assert by_operation("cancel_task").powertools_path == "/v1/tasks/<id>/cancel"


def test_public_routes_are_exactly_health_and_docs() -> None:
    assert {r.path for r in ROUTES if r.public} == {"/v1/health", "/v1/openapi.json", "/v1/docs"}
    for route in ROUTES:
        assert route.public or scopes.ADMIN in route.scopes


def test_every_route_has_a_unique_operation_and_key() -> None:
    assert len({r.operation_id for r in ROUTES}) == len(ROUTES)
    assert len({r.route_key for r in ROUTES}) == len(ROUTES)
