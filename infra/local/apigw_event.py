"""API Gateway HTTP API payload format 2.0: the event a request becomes, and back.

Built the way AWS documents and delivers it (``tests/events/http_api_v2_jwt.json`` is the
reference and a test compares the two field by field): lower-cased headers with repeats
comma-joined, cookies moved out of the headers into ``cookies``, ``rawQueryString`` *and*
decoded ``queryStringParameters`` (repeats comma-joined), ``pathParameters`` from the shared
route table, a base64 body for non-text content, and the JWT claims as strings.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qsl, unquote

from infra.local.lambda_context import LOCAL_ACCOUNT

VERSION: Final = "2.0"
STAGE: Final = "$default"
API_ID: Final = "local"
_MONTHS: Final = (
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
)  # fmt: skip
# Content types API Gateway passes as text; everything else (including a missing type and
# form posts) arrives base64-encoded with isBase64Encoded true.
_TEXT_SUBTYPES: Final = ("json", "xml", "javascript")


@dataclass(frozen=True, kw_only=True)
class IncomingRequest:
    method: str
    target: str  # the request line's target: path plus optional ?query
    headers: Sequence[tuple[str, str]]  # as received, in order, repeats kept
    body: bytes
    source_ip: str
    protocol: str = "HTTP/1.1"


def new_request_id() -> str:
    """An id shaped like API Gateway's (``cDbVvjQ2IAMEb3A=``)."""
    return base64.b64encode(uuid.uuid4().bytes[:11]).decode()


def clf_time(epoch_ms: int) -> str:
    """``24/Nov/2026:18:00:00 +0000`` (locale-independent, unlike strftime's %b)."""
    t = time.gmtime(epoch_ms / 1000)
    return (
        f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:"
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"
    )


def claim_string(value: Any) -> str:
    """A claim as HTTP API hands it to the integration: always a string.

    Numbers and booleans are stringified, arrays become ``[a b]`` (as AWS renders e.g.
    ``cognito:groups``); objects, which AWS does not document, are given as JSON.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + " ".join(claim_string(v) for v in value) + "]"
    return json.dumps(value, separators=(",", ":"))


def _is_text(content_type: str | None) -> bool:
    if not content_type:
        return False
    mime = content_type.split(";", 1)[0].strip().lower()
    major, _, minor = mime.partition("/")
    if major == "text":
        return True
    return major == "application" and any(
        minor == sub or minor.endswith("+" + sub) for sub in _TEXT_SUBTYPES
    )


def _headers_and_cookies(
    pairs: Iterable[tuple[str, str]],
) -> tuple[dict[str, str], list[str]]:
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in pairs:
        key = name.lower()
        if key == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    return headers, cookies


def _query_parameters(raw_query: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        params[key] = f"{params[key]},{value}" if key in params else value
    return params


def build_event(
    request: IncomingRequest,
    *,
    route_key: str,
    path_parameters: Mapping[str, str] | None,
    claims: Mapping[str, Any] | None,
    request_id: str | None = None,
    epoch_ms: int | None = None,
) -> dict[str, Any]:
    """The payload-v2 event API Gateway sends the integration for ``request``."""
    raw_path, _, raw_query = request.target.partition("?")
    headers, cookies = _headers_and_cookies(request.headers)
    source_ip = request.source_ip
    # API Gateway appends the client's address to X-Forwarded-For and adds port and proto.
    forwarded = headers.get("x-forwarded-for")
    headers["x-forwarded-for"] = f"{forwarded}, {source_ip}" if forwarded else source_ip
    host = headers.get("host", "127.0.0.1")
    domain, _, port = host.partition(":")
    headers.setdefault("x-forwarded-port", port or "80")
    headers.setdefault("x-forwarded-proto", "http")
    request_id = request_id or new_request_id()
    epoch_ms = epoch_ms if epoch_ms is not None else int(time.time() * 1000)
    headers.setdefault("x-amzn-trace-id", f"Root=1-{epoch_ms // 1000:08x}-{uuid.uuid4().hex[:24]}")
    request_context: dict[str, Any] = {
        "accountId": LOCAL_ACCOUNT,
        "apiId": API_ID,
        "domainName": domain,
        "domainPrefix": domain.split(".", 1)[0],
        "http": {
            "method": request.method,
            "path": raw_path,
            "protocol": request.protocol,
            "sourceIp": source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": request_id,
        "routeKey": route_key,
        "stage": STAGE,
        "time": clf_time(epoch_ms),
        "timeEpoch": epoch_ms,
    }
    if claims is not None:
        request_context["authorizer"] = {
            "jwt": {"claims": {k: claim_string(v) for k, v in claims.items()}, "scopes": None}
        }
    event: dict[str, Any] = {
        "version": VERSION,
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if raw_query:
        event["queryStringParameters"] = _query_parameters(raw_query)
    event["requestContext"] = request_context
    if request.body:
        if _is_text(headers.get("content-type")):
            try:
                event["body"] = request.body.decode("utf-8")
                event["isBase64Encoded"] = False
            except UnicodeDecodeError:
                event["body"] = base64.b64encode(request.body).decode()
                event["isBase64Encoded"] = True
        else:
            event["body"] = base64.b64encode(request.body).decode()
            event["isBase64Encoded"] = True
    else:
        event["isBase64Encoded"] = False
    if path_parameters:
        event["pathParameters"] = {k: unquote(v) for k, v in path_parameters.items()}
    return event


@dataclass(frozen=True)
class GatewayResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def gateway_message(status: int, message: str) -> GatewayResponse:
    """API Gateway's own answers (401/403/413/500...): ``{"message": ...}``."""
    body = json.dumps({"message": message}, separators=(",", ":")).encode()
    return GatewayResponse(status, [("content-type", "application/json")], body)


def from_lambda_result(result: Any) -> GatewayResponse:
    """What API Gateway sends the client for an integration's payload-v2 result."""
    if not isinstance(result, Mapping) or "statusCode" not in result:
        # v2 inference: a result without statusCode is a 200 JSON body of the result.
        text = result if isinstance(result, str) else json.dumps(result)
        return GatewayResponse(200, [("content-type", "application/json")], text.encode())
    headers: list[tuple[str, str]] = []
    for name, value in (result.get("headers") or {}).items():
        headers.append((name, str(value)))
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((name, str(v)) for v in values)
    headers.extend(("set-cookie", str(c)) for c in result.get("cookies") or ())
    raw_body = result.get("body") or ""
    body: bytes
    if result.get("isBase64Encoded"):
        body = base64.b64decode(raw_body)
    elif isinstance(raw_body, str):
        body = raw_body.encode()
    else:
        body = json.dumps(raw_body).encode()
    return GatewayResponse(int(result["statusCode"]), headers, body)
