"""The local HTTP API: what API Gateway does in front of the API Lambda, on 127.0.0.1.

Route selection from the shared route table, the JWT authorizer, the payload-v2 event, a
Lambda-like context, and the integration response turned back into HTTP. The Lambda handler
runs in-process; calls are serialized because a Lambda execution environment serves one
invocation at a time and Powertools' resolver keeps the current event on the app object.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final

from functions.api import routes
from infra.local.apigw_event import (
    GatewayResponse,
    IncomingRequest,
    build_event,
    from_lambda_result,
    gateway_message,
    new_request_id,
)
from infra.local.authorizer import Forbidden, JwtAuthorizer, Unauthorized
from infra.local.lambda_context import LocalLambdaContext

LambdaHandler = Callable[[dict[str, Any], Any], Any]

# API Gateway's payload limit for HTTP APIs.
MAX_PAYLOAD_BYTES: Final = 10 * 1024 * 1024
FUNCTION_NAME: Final = "taskport-api"


class LocalApiGateway:
    def __init__(
        self,
        *,
        handler: LambdaHandler,
        authorizer: JwtAuthorizer,
        function_name: str = FUNCTION_NAME,
        access_log: bool = True,
    ) -> None:
        self._handler = handler
        self._authorizer = authorizer
        self._function_name = function_name
        self._invoke_lock = threading.Lock()
        self._access_log = access_log

    def handle(self, request: IncomingRequest) -> GatewayResponse:
        path = request.target.partition("?")[0]
        matched = routes.resolve(request.method, path)
        claims: dict[str, Any] | None = None
        if matched is None:
            route_key, path_parameters = routes.DEFAULT_ROUTE_KEY, None
        else:
            route, path_parameters = matched
            route_key = route.route_key
            if not route.public:
                authorization = next(
                    (v for k, v in request.headers if k.lower() == "authorization"), None
                )
                try:
                    claims = self._authorizer.authorize(route, authorization)
                except (Unauthorized, Forbidden) as denied:
                    response = gateway_message(denied.status, denied.message)
                    response.headers.append(("apigw-requestid", new_request_id()))
                    return response
        event = build_event(
            request, route_key=route_key, path_parameters=path_parameters, claims=claims
        )
        return self.invoke(event)

    def invoke(self, event: dict[str, Any]) -> GatewayResponse:
        request_id = event["requestContext"]["requestId"]
        context = LocalLambdaContext(function_name=self._function_name)
        try:
            with self._invoke_lock:
                result = self._handler(event, context)
            response = from_lambda_result(result)
        except Exception:
            # As in AWS: the traceback goes to the function's log, the client sees a 500.
            print(f"[api] handler error for {request_id}:", file=sys.stderr)
            traceback.print_exc()
            response = gateway_message(500, "Internal Server Error")
        response.headers.append(("apigw-requestid", request_id))
        return response


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    gateway: LocalApiGateway  # set on the subclass built by make_server
    server_version = "taskport-local"

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            chunks = []
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > MAX_PAYLOAD_BYTES:
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("content-length") or 0)
        if length > MAX_PAYLOAD_BYTES:
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self) -> None:
        started = time.perf_counter()
        try:
            body = self._read_body()
        except ValueError:
            self._send(gateway_message(400, "Bad Request"))
            return
        if body is None:
            self.close_connection = True
            self._send(gateway_message(413, "Request Entity Too Large"))
            return
        request = IncomingRequest(
            method=self.command,
            target=self.path,
            headers=list(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
            protocol=self.request_version,
        )
        response = self.gateway.handle(request)
        self._send(response)
        if self.gateway._access_log:
            elapsed = (time.perf_counter() - started) * 1000
            print(
                f"[api] {self.command} {self.path.partition('?')[0]} {response.status} "
                f"{elapsed:.1f}ms",
                file=sys.stderr,
                flush=True,
            )

    def _send(self, response: GatewayResponse) -> None:
        self.send_response(response.status)
        has_type = False
        for name, value in response.headers:
            if name.lower() in ("content-length", "transfer-encoding", "connection"):
                continue
            has_type = has_type or name.lower() == "content-type"
            self.send_header(name, value)
        if not has_type and response.body:
            self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def __getattr__(self, name: str) -> Any:
        # HTTP APIs take any method (unmatched ones reach the $default route), so every
        # do_<METHOD> lookup http.server makes is served rather than answered 501.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # The access line in _serve replaces http.server's; its error lines stay.
        return


class GatewayServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def make_server(gateway: LocalApiGateway, port: int, host: str = "127.0.0.1") -> GatewayServer:
    handler_class = type("BoundRequestHandler", (_RequestHandler,), {"gateway": gateway})
    return GatewayServer((host, port), handler_class)


def serve_in_thread(server: GatewayServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name="gateway", daemon=True)
    thread.start()
    return thread
