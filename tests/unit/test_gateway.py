"""The local gateway against a fake Lambda handler: events, authorizer answers, responses.

The HTTP server is real (127.0.0.1, free port); only the Lambda behind it is a fake that
records the events it receives.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from infra.local import tokens
from infra.local.apigw_event import claim_string, clf_time
from infra.local.authorizer import JwtAuthorizer
from infra.local.gateway import LocalApiGateway, make_server, serve_in_thread
from workers.contract import scopes

SAMPLE = Path(__file__).parents[1] / "events" / "http_api_v2_jwt.json"
# The generic example of the API Gateway developer guide (every optional block filled in).
AWS_DOCS_SAMPLE = Path(__file__).parents[1] / "events" / "http_api_v2_aws_docs.json"


class FakeLambda:
    """Records (event, context) and answers with ``response`` (a dict or a callable)."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, Any], Any]] = []
        self.response: dict[str, Any] | Callable[[dict[str, Any]], Any] = {
            "statusCode": 200,
            "headers": {"content-type": "application/json"},
            "body": '{"ok": true}',
        }

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.calls.append((event, context))
        return self.response(event) if callable(self.response) else self.response

    @property
    def event(self) -> dict[str, Any]:
        return self.calls[-1][0]


@pytest.fixture(scope="module")
def key() -> tokens.SigningKey:
    return tokens.SigningKey.generate()


@pytest.fixture(scope="module")
def shared_fake() -> FakeLambda:
    return FakeLambda()


@pytest.fixture
def fake(shared_fake: FakeLambda) -> FakeLambda:
    shared_fake.__init__()  # type: ignore[misc]  # a fresh fake per test, one server per module
    return shared_fake


@pytest.fixture(scope="module")
def gateway_url(key: tokens.SigningKey, shared_fake: FakeLambda) -> Iterator[str]:
    authorizer = JwtAuthorizer(key.public_pem, scopes.DEFAULT_PREFIX)
    gateway = LocalApiGateway(handler=shared_fake, authorizer=authorizer, access_log=False)
    server = make_server(gateway, 0)
    serve_in_thread(server)
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def raw_http(url: str, request: bytes) -> bytes:
    """Send exact bytes (no client-added headers) and read the whole answer."""
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


# ---- the sample event, field for field ----

# Fields whose values depend on the host, the moment or the token; compared by pattern.
_VARYING = {
    ("headers", "host"): r"127\.0\.0\.1:\d+",
    ("headers", "authorization"): r"Bearer [\w-]+\.[\w-]+\.[\w-]+",
    ("headers", "x-amzn-trace-id"): r"Root=1-[0-9a-f]{8}-[0-9a-f]{24}",
    ("headers", "x-forwarded-for"): r"127\.0\.0\.1",
    ("headers", "x-forwarded-port"): r"\d+",
    ("headers", "x-forwarded-proto"): r"https?",
    ("requestContext", "apiId"): r"\w+",
    ("requestContext", "domainName"): r"[\w.-]+",
    ("requestContext", "domainPrefix"): r"[\w-]+",
    ("requestContext", "http", "sourceIp"): r"127\.0\.0\.1",
    ("requestContext", "requestId"): r"[A-Za-z0-9+/]{15}=",
    ("requestContext", "time"): r"\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000",
    ("requestContext", "timeEpoch"): r"\d{13}",
    ("requestContext", "authorizer", "jwt", "claims", "exp"): r"\d{10}",
    ("requestContext", "authorizer", "jwt", "claims", "iat"): r"\d{10}",
    ("requestContext", "authorizer", "jwt", "claims", "jti"): r"[0-9a-f-]{36}",
}


def _compare(expected: Any, actual: Any, path: tuple[str, ...], problems: list[str]) -> None:
    if path in _VARYING:
        if type(expected) is not type(actual) or not re.fullmatch(_VARYING[path], str(actual)):
            problems.append(f"{'.'.join(path)}: {actual!r} does not look like {expected!r}")
        return
    if isinstance(expected, dict) and isinstance(actual, dict):
        for missing in expected.keys() - actual.keys():
            problems.append(f"{'.'.join((*path, missing))}: missing")
        for extra in actual.keys() - expected.keys():
            problems.append(f"{'.'.join((*path, extra))}: not in the AWS sample")
        for name in expected.keys() & actual.keys():
            _compare(expected[name], actual[name], (*path, name), problems)
    elif expected != actual or type(expected) is not type(actual):
        problems.append(f"{'.'.join(path)}: {actual!r} != {expected!r}")


def test_event_equals_the_aws_sample_field_for_field(
    gateway_url: str, fake: FakeLambda, key: tokens.SigningKey
) -> None:
    sample = json.loads(SAMPLE.read_text())
    token = tokens.mint(
        key,
        scope_names=(scopes.TASKS_WRITE, scopes.TASKS_READ),
        extra={"cognito:groups": ["admin", "ops"]},
    )
    body = sample["body"].encode()
    port = gateway_url.rsplit(":", 1)[1]
    request = (
        f"POST {sample['rawPath']}?{sample['rawQueryString']} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "User-Agent: taskport-test/1.0\r\n"
        "Accept: application/json\r\n"
        "Content-Type: application/json\r\n"
        f"Authorization: Bearer {token}\r\n"
        "X-Custom: one\r\n"
        "X-Custom: two\r\n"
        "Cookie: session=abc; theme=dark\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    ).encode() + body
    answer = raw_http(gateway_url, request)
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]

    problems: list[str] = []
    _compare(sample, fake.event, (), problems)
    assert problems == []
    # And the claims really are the token's, stringified the AWS way.
    claims = fake.event["requestContext"]["authorizer"]["jwt"]["claims"]
    assert claims["cognito:groups"] == "[admin ops]"
    assert all(isinstance(v, str) for v in claims.values())


def test_event_for_the_aws_guide_request_matches_the_guide(
    gateway_url: str, fake: FakeLambda
) -> None:
    guide = json.loads(AWS_DOCS_SAMPLE.read_text())
    body = guide["body"].encode()
    request = (
        f"POST {guide['rawPath']}?{guide['rawQueryString']} HTTP/1.1\r\n"
        "Host: id.execute-api.us-east-1.amazonaws.com\r\n"
        "User-Agent: agent\r\n"
        "Header1: value1\r\n"
        "Header2: value1\r\n"
        "Header2: value2\r\n"
        "Cookie: cookie1; cookie2\r\n"
        "Content-Type: text/plain\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    ).encode() + body
    assert raw_http(gateway_url, request).startswith(b"HTTP/1.1 200")
    event = fake.event
    for name in ("version", "routeKey", "rawPath", "rawQueryString", "cookies", "body"):
        assert event[name] == guide[name], name
    assert event["queryStringParameters"] == guide["queryStringParameters"]
    assert event["isBase64Encoded"] is guide["isBase64Encoded"]
    assert {k: event["headers"][k] for k in guide["headers"]} == guide["headers"]
    context, guide_context = event["requestContext"], guide["requestContext"]
    for name in ("routeKey", "stage", "domainName", "domainPrefix"):
        assert context[name] == guide_context[name], name
    assert {k: context["http"][k] for k in ("method", "path", "protocol", "userAgent")} == {
        k: guide_context["http"][k] for k in ("method", "path", "protocol", "userAgent")
    }
    # $default has no authorizer; mTLS (authentication) and stage variables are not used.
    optional = {"authentication", "authorizer"}
    assert set(context) == set(guide_context) - optional
    assert set(event) == set(guide) - {"pathParameters", "stageVariables"}


# ---- the authorizer ----


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"authorization": ""},
        {"authorization": "Bearer"},
        {"authorization": "Bearer not-a-jwt"},
        {"authorization": "Basic dXNlcjpwYXNz"},
    ],
)
def test_missing_or_malformed_token_is_401(
    gateway_url: str, fake: FakeLambda, headers: dict[str, str]
) -> None:
    answer = httpx.get(f"{gateway_url}/v1/tasks", headers=headers)
    assert answer.status_code == 401
    assert answer.json() == {"message": "Unauthorized"}
    assert fake.calls == []


def test_token_from_another_key_is_401(gateway_url: str, fake: FakeLambda) -> None:
    other = tokens.mint(tokens.SigningKey.generate())
    answer = httpx.get(f"{gateway_url}/v1/tasks", headers=bearer(other))
    assert (answer.status_code, answer.json()) == (401, {"message": "Unauthorized"})
    assert fake.calls == []


@pytest.mark.parametrize(
    "override",
    [
        {"exp": int(time.time()) - 60},
        {"aud": "someone-else"},
        {"iss": "https://evil.example/issuer"},
    ],
    ids=["expired", "audience", "issuer"],
)
def test_expired_or_foreign_token_is_401(
    gateway_url: str, fake: FakeLambda, key: tokens.SigningKey, override: dict[str, Any]
) -> None:
    token = tokens.mint(key, extra=override)
    answer = httpx.get(f"{gateway_url}/v1/tasks", headers=bearer(token))
    assert (answer.status_code, answer.json()) == (401, {"message": "Unauthorized"})
    assert fake.calls == []


def test_bare_token_without_bearer_is_accepted_like_api_gateway(
    gateway_url: str, fake: FakeLambda, key: tokens.SigningKey
) -> None:
    answer = httpx.get(f"{gateway_url}/v1/tasks", headers={"authorization": tokens.mint(key)})
    assert answer.status_code == 200
    assert len(fake.calls) == 1


def test_missing_scope_is_403(gateway_url: str, fake: FakeLambda, key: tokens.SigningKey) -> None:
    reader = tokens.mint(key, scope_names=[scopes.TASKS_READ])
    answer = httpx.post(f"{gateway_url}/v1/tasks", json={}, headers=bearer(reader))
    assert (answer.status_code, answer.content) == (403, b'{"message":"Forbidden"}')
    assert answer.headers["apigw-requestid"]
    # The same token passes where its scope is enough.
    assert httpx.get(f"{gateway_url}/v1/tasks", headers=bearer(reader)).status_code == 200
    assert [e["routeKey"] for e, _ in fake.calls] == ["GET /v1/tasks"]


def test_unprefixed_scope_is_not_the_route_scope(
    gateway_url: str, fake: FakeLambda, key: tokens.SigningKey
) -> None:
    # "tasks:read" without the resource-server prefix is another scope entirely.
    token = tokens.mint(key, scope_names=["x"], extra={"scope": scopes.TASKS_READ})
    answer = httpx.get(f"{gateway_url}/v1/tasks", headers=bearer(token))
    assert answer.status_code == 403


def test_admin_scope_is_an_alternative_on_every_protected_route(
    gateway_url: str, fake: FakeLambda, key: tokens.SigningKey
) -> None:
    admin = tokens.mint(key, scope_names=[scopes.ADMIN])
    assert httpx.post(f"{gateway_url}/v1/tasks", json={}, headers=bearer(admin)).status_code == 200
    assert httpx.get(f"{gateway_url}/v1/ops/sitrep", headers=bearer(admin)).status_code == 200


def test_public_route_has_no_authorizer_block(gateway_url: str, fake: FakeLambda) -> None:
    answer = httpx.get(f"{gateway_url}/v1/health")
    assert answer.status_code == 200
    assert fake.event["routeKey"] == "GET /v1/health"
    assert "authorizer" not in fake.event["requestContext"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/nope"), ("DELETE", "/v1/tasks"), ("TRACE", "/v1/tasks"), ("GET", "/v1/tasks/a/b")],
)
def test_unmatched_requests_reach_default_route_without_authorizer(
    gateway_url: str, fake: FakeLambda, method: str, path: str
) -> None:
    fake.response = {"statusCode": 404, "body": '{"error": {"code": "not_found"}}'}
    answer = httpx.request(method, f"{gateway_url}{path}")
    assert answer.status_code == 404
    assert answer.json() == {"error": {"code": "not_found"}}
    assert fake.event["routeKey"] == "$default"
    assert fake.event["requestContext"]["routeKey"] == "$default"
    assert "authorizer" not in fake.event["requestContext"]
    assert "pathParameters" not in fake.event


def test_literal_segment_beats_path_parameter(
    gateway_url: str, fake: FakeLambda, key: tokens.SigningKey
) -> None:
    token = tokens.mint(key)
    httpx.post(f"{gateway_url}/v1/tasks/batch", json={}, headers=bearer(token))
    assert fake.event["routeKey"] == "POST /v1/tasks/batch"
    assert "pathParameters" not in fake.event
    httpx.get(f"{gateway_url}/v1/tasks/abc%20def", headers=bearer(token))
    assert fake.event["routeKey"] == "GET /v1/tasks/{id}"
    assert fake.event["pathParameters"] == {"id": "abc def"}
    assert fake.event["rawPath"] == "/v1/tasks/abc%20def"


def test_request_without_query_or_body(gateway_url: str, fake: FakeLambda) -> None:
    httpx.get(f"{gateway_url}/v1/health")
    event = fake.event
    assert event["rawQueryString"] == ""
    assert "queryStringParameters" not in event
    assert "cookies" not in event
    assert "body" not in event
    assert event["isBase64Encoded"] is False


@pytest.mark.parametrize(
    ("content_type", "payload", "encoded"),
    [
        ("application/json", b'{"a": 1}', False),
        ("application/problem+json; charset=utf-8", b'{"a": 1}', False),
        ("text/plain", "caf\u00e9".encode(), False),
        ("application/octet-stream", b"\x00\xff\x10", True),
        ("application/x-www-form-urlencoded", b"a=1&b=2", True),
        ("application/json", b"\xff\xfe not utf-8", True),
    ],
)
def test_body_is_base64_unless_text(
    gateway_url: str, fake: FakeLambda, content_type: str, payload: bytes, encoded: bool
) -> None:
    httpx.post(f"{gateway_url}/v1/nowhere", content=payload, headers={"content-type": content_type})
    event = fake.event
    assert event["isBase64Encoded"] is encoded
    received = base64.b64decode(event["body"]) if encoded else event["body"].encode()
    assert received == payload


def test_response_is_converted_like_api_gateway(gateway_url: str, fake: FakeLambda) -> None:
    fake.response = {
        "statusCode": 201,
        "headers": {"content-type": "image/png", "x-one": "1"},
        "multiValueHeaders": {"x-many": ["a", "b"]},
        "cookies": ["a=1; Path=/", "b=2"],
        "body": base64.b64encode(b"\x89PNG\x00").decode(),
        "isBase64Encoded": True,
    }
    answer = httpx.get(f"{gateway_url}/v1/health")
    assert answer.status_code == 201
    assert answer.content == b"\x89PNG\x00"
    assert answer.headers["content-type"] == "image/png"
    assert answer.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2"]
    assert answer.headers.get_list("x-many") == ["a", "b"]
    assert answer.headers["apigw-requestid"] == fake.event["requestContext"]["requestId"]


def test_result_without_status_code_is_a_json_200(gateway_url: str, fake: FakeLambda) -> None:
    fake.response = lambda event: {"hello": "world"}
    answer = httpx.get(f"{gateway_url}/v1/health")
    assert (answer.status_code, answer.json()) == (200, {"hello": "world"})


def test_handler_crash_is_apigateway_500(gateway_url: str, fake: FakeLambda) -> None:
    def boom(event: dict[str, Any]) -> Any:
        raise RuntimeError("secret detail")

    fake.response = boom
    answer = httpx.get(f"{gateway_url}/v1/health")
    assert (answer.status_code, answer.json()) == (500, {"message": "Internal Server Error"})
    assert "secret" not in answer.text


def test_lambda_context_looks_like_the_runtime(gateway_url: str, fake: FakeLambda) -> None:
    httpx.get(f"{gateway_url}/v1/health")
    context = fake.calls[-1][1]
    assert context.function_name == "taskport-api"
    assert context.invoked_function_arn.endswith(":function:taskport-api")
    assert context.aws_request_id
    assert 0 < context.get_remaining_time_in_millis() <= 30_000


def test_oversized_body_is_413_before_the_handler(gateway_url: str, fake: FakeLambda) -> None:
    too_big = str(10 * 1024 * 1024 + 1)
    answer = raw_http(
        gateway_url,
        f"POST /v1/health HTTP/1.1\r\nHost: x\r\nContent-Length: {too_big}\r\n\r\n".encode(),
    )
    assert answer.startswith(b"HTTP/1.1 413")
    assert fake.calls == []


# ---- pure helpers ----


def test_claims_are_stringified_like_http_api() -> None:
    assert claim_string(1795543200) == "1795543200"
    assert claim_string(True) == "true"
    assert claim_string(["a", "b", 3]) == "[a b 3]"
    assert claim_string("x y") == "x y"


def test_request_time_format() -> None:
    epoch_ms = int(datetime(2026, 11, 24, 18, 0, tzinfo=UTC).timestamp() * 1000)
    assert clf_time(epoch_ms) == "24/Nov/2026:18:00:00 +0000"
