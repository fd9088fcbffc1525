"""The webhook HTTP client: connects only to checked addresses, within a total deadline.

httpx 0.28 has no public option to pin the address a connection goes to. The httpcore
network backend is the seam: ``connect_tcp`` resolves the hostname, checks *every* answer
with the SSRF guard and connects to a checked IP, while httpcore keeps using the hostname
for TLS SNI, certificate verification and the pool key (so a pooled connection never
serves another hostname). DNS rebinding between registration and send, or between two
sends, is caught because the check runs at every new connection.

httpx has no total timeout either: a deadline (a context variable set per delivery) caps
every connect, read and write, so a server dripping bytes cannot hold a slot past it.
"""

from __future__ import annotations

import contextvars
import select
import ssl
import sys
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpcore
import httpx

from workers.contract import ssrf
from workers.notifications.webhooks import resolver_gate

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "webhook_deadline", default=None
)


@contextmanager
def deadline(seconds: float) -> Iterator[float]:
    """Every socket operation inside the block ends by ``seconds`` from now."""
    until = time.monotonic() + seconds
    token = _deadline.set(until)
    try:
        yield until
    finally:
        _deadline.reset(token)


def _bounded(timeout: float | None, exc: type[Exception]) -> float | None:
    until = _deadline.get()
    if until is None:
        return timeout
    remaining = until - time.monotonic()
    if remaining <= 0:
        raise exc("webhook delivery deadline exceeded")
    return remaining if timeout is None else min(timeout, remaining)


class DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(
            ssl_context, server_hostname, _bounded(timeout, httpcore.ConnectTimeout)
        )
        return DeadlineStream(inner)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            # httpcore asks this of every idle pooled connection on every request; under
            # gevent its patched select is a hub round trip each time. A zero-timeout
            # poll on the real fd answers the same question without one.
            sock = self._inner.get_extra_info("socket")
            if sock is not None:
                return _readable_now(sock)
        return self._inner.get_extra_info(info)


def _readable_now(sock: Any) -> bool:
    poller = _native_poll()()
    poller.register(sock.fileno(), select.POLLIN)
    return bool(poller.poll(0))


def _native_poll() -> Any:
    if "gevent.monkey" in sys.modules:
        from gevent import monkey

        if monkey.is_module_patched("select"):
            return monkey.get_original("select", "poll")
    return select.poll


class CheckedNetworkBackend(httpcore.NetworkBackend):
    """Resolve, check every address, connect to a checked one (never re-resolving)."""

    def __init__(
        self,
        *,
        resolver: ssrf.Resolver = ssrf.system_resolver,
        allow_loopback: bool = False,
        inner: httpcore.NetworkBackend | None = None,
        resolver_threads: int = resolver_gate.DEFAULT_THREADS,
        resolves_per_tenant: int = resolver_gate.DEFAULT_PER_TENANT,
    ) -> None:
        self._resolver = resolver
        self._allow_loopback = allow_loopback
        self._inner = inner or httpcore.SyncBackend()
        self._gate = resolver_gate.ResolverGate(
            threads=resolver_threads, per_tenant=resolves_per_tenant
        )

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        addresses = self._resolve(host, port)
        last: Exception | None = None
        for address in addresses:
            try:
                stream = self._inner.connect_tcp(
                    address,
                    port,
                    _bounded(timeout, httpcore.ConnectTimeout),
                    local_address,
                    socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
                continue
            return DeadlineStream(stream)
        assert last is not None
        raise last

    def _resolve(self, host: str, port: int) -> list[str]:
        remaining = _bounded(None, httpcore.ConnectTimeout)
        if remaining is None or "gevent" not in sys.modules:
            return ssrf.checked_addresses(
                host, port, resolver=self._resolver, allow_loopback=self._allow_loopback
            )
        # Resolution counts against the delivery deadline too: a resolver that hangs must
        # not hold a slot. Under the green pool (the notifications queue's) the lookup runs
        # in the gate's threads, within the tenant's share of them (resolver_gate), and a
        # gevent timeout ends the wait.
        import gevent

        def gated(name: str, number: int) -> list[str]:
            return self._gate.resolve(self._resolver, name, number)

        expired = httpcore.ConnectTimeout("webhook delivery deadline exceeded while resolving")
        with gevent.Timeout(remaining, expired):
            return ssrf.checked_addresses(
                host, port, resolver=gated, allow_loopback=self._allow_loopback
            )

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        raise ssrf.UnsafeWebhookURL("scheme", "unix sockets are not allowed")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class CheckedTransport(httpx.HTTPTransport):
    """httpx's transport with the checked backend in its connection pool."""

    def __init__(
        self,
        *,
        backend: CheckedNetworkBackend,
        limits: httpx.Limits,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(limits=limits, retries=0, trust_env=False)
        # The pool httpx built above is replaced by one that uses the checked backend;
        # everything else (exception mapping, request/response conversion) stays httpx's.
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context or httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            retries=0,
            network_backend=backend,
        )


class ShardedTransport(httpx.BaseTransport):
    """Several small pools behind one client; a URL always uses the same one.

    httpcore's pool does O(connections^2) work per request (it counts idle connections
    inside its loop over connections): with 50 concurrent deliveries that was most of a
    worker's CPU. Small pools keep keep-alive per endpoint URL and the work per request low.
    """

    def __init__(self, shards: list[httpx.BaseTransport]) -> None:
        self._shards = shards

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        index = zlib.crc32(str(request.url).encode()) % len(self._shards)
        return self._shards[index].handle_request(request)

    def close(self) -> None:
        for shard in self._shards:
            shard.close()


def build_client(
    *,
    connect_timeout: float,
    read_timeout: float,
    resolver: ssrf.Resolver = ssrf.system_resolver,
    allow_loopback: bool = False,
    max_connections: int = 128,
    shards: int = 16,
    resolver_threads: int = resolver_gate.DEFAULT_THREADS,
    resolves_per_tenant: int = resolver_gate.DEFAULT_PER_TENANT,
) -> httpx.Client:
    """One client per worker process: keep-alive, bounded pools, no redirects, no proxies."""
    backend = CheckedNetworkBackend(
        resolver=resolver,
        allow_loopback=allow_loopback,
        resolver_threads=resolver_threads,
        resolves_per_tenant=resolves_per_tenant,
    )
    per_shard = max(1, -(-max_connections // shards))
    limits = httpx.Limits(
        max_connections=per_shard,
        max_keepalive_connections=per_shard,
        keepalive_expiry=30,
    )
    ssl_context = httpx.create_ssl_context(trust_env=False)
    transport = ShardedTransport(
        [
            CheckedTransport(backend=backend, limits=limits, ssl_context=ssl_context)
            for _ in range(shards)
        ]
    )
    return httpx.Client(
        transport=transport,
        timeout=httpx.Timeout(read_timeout, connect=connect_timeout, pool=connect_timeout),
        follow_redirects=False,
        trust_env=False,
        headers={"user-agent": "taskport-webhooks/1"},
    )
