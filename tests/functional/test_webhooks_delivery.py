"""One delivery attempt against real servers on 127.0.0.1: the total deadline, no proxies,
the pool keyed by hostname while connecting to the checked address, the body cap.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from tests.support import notify_env
from tests.support.fresh_python import run_python
from tests.support.notify_env import Receiver
from workers.notifications.webhooks import delivery, network

LOOPBACK_HOSTS = {"a.hooks.test": ["127.0.0.1"], "b.hooks.test": ["127.0.0.1"]}


def client(**kwargs: object) -> object:
    return network.build_client(
        connect_timeout=2,
        read_timeout=10,
        resolver=lambda host, port: LOOPBACK_HOSTS.get(host, ["127.0.0.1"]),
        allow_loopback=True,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture
def rec() -> Iterator[Receiver]:
    with notify_env.receiver() as server:
        yield server


@pytest.fixture
def dripping_server() -> Iterator[tuple[int, list[int]]]:
    """Answers a status line, then one header byte every 100 ms for ~10 s."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    dripped: list[int] = []
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(5)
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\n")
            for _ in range(100):
                if stop.is_set():
                    return
                try:
                    conn.sendall(b"x")
                except OSError:
                    return
                dripped.append(1)
                time.sleep(0.1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield int(listener.getsockname()[1]), dripped
    stop.set()
    listener.close()
    thread.join(5)


def test_total_deadline_stops_a_dripping_server(dripping_server: tuple[int, list[int]]) -> None:
    port, dripped = dripping_server
    result = delivery.attempt(
        client(),
        f"http://a.hooks.test:{port}/",
        b"{}",
        {},
        deadline_seconds=1.0,
        max_response_bytes=1024,
    )
    assert result.outcome == delivery.RETRY
    assert "deadline" in (result.error or "") or "timeout" in (result.error or "")
    # Each byte arrived well within the per-read timeout: only the deadline can stop it.
    assert 0 < len(dripped) < 100


class HangingDNS:
    """A resolver that blocks its OS thread, as getaddrinfo does when no nameserver answers,
    for hosts under ``.hangs.test``; the test releases it at the end."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.lookups: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, host: str, port: int) -> list[str]:
        if host.endswith(".hangs.test"):
            with self.lock:
                self.lookups.append(host)
            self.release.wait(30)
        return ["127.0.0.1"]


@pytest.fixture
def hanging_dns() -> Iterator[HangingDNS]:
    dns = HangingDNS()
    try:
        yield dns
    finally:
        dns.release.set()


def test_a_hanging_resolver_ends_at_the_deadline(hanging_dns: HangingDNS) -> None:
    import gevent

    hung = network.build_client(
        connect_timeout=30, read_timeout=30, resolver=hanging_dns, allow_loopback=True
    )
    result = gevent.spawn(
        delivery.attempt,
        hung,
        "http://slow-dns.hangs.test/",
        b"{}",
        {},
        deadline_seconds=0.5,
        max_response_bytes=1024,
    ).get(timeout=10)
    assert hanging_dns.lookups == ["slow-dns.hangs.test"]
    assert result.outcome == delivery.RETRY
    assert "deadline exceeded while resolving" in (result.error or "")


def test_a_tenant_whose_dns_hangs_holds_only_its_share_of_resolver_threads(
    rec: Receiver, hanging_dns: HangingDNS
) -> None:
    import gevent

    shared = network.build_client(
        connect_timeout=5,
        read_timeout=5,
        resolver=hanging_dns,
        allow_loopback=True,
        resolves_per_tenant=2,
    )

    def deliver(host: str, tenant: str, deadline: float) -> delivery.Result:
        return delivery.attempt(
            shared,
            rec.url("/hook", host=host),
            b"{}",
            {},
            deadline_seconds=deadline,
            max_response_bytes=1024,
            tenant=tenant,
        )

    # More hanging lookups than gevent's default pool has threads (10), each on its own host.
    stuck = [gevent.spawn(deliver, f"h{i}.hangs.test", "evil", 0.5) for i in range(12)]
    gevent.joinall(stuck, timeout=10, raise_error=True)
    assert all(g.value.outcome == delivery.RETRY for g in stuck)
    assert all("resolving" in (g.value.error or "") for g in stuck)
    # Only the tenant's share ever reached a thread; the other lookups waited for a turn.
    assert len(hanging_dns.lookups) == 2

    # Another tenant resolves and delivers while those two threads are still blocked.
    other = gevent.spawn(deliver, "ok.hooks.test", "good", 5).get(timeout=10)
    assert other.outcome == delivery.DELIVERED
    assert len(rec.at("/hook")) == 1

    # When the stuck lookups end, the tenant has its turns back.
    hanging_dns.release.set()
    again = gevent.spawn(deliver, "h99.hangs.test", "evil", 5).get(timeout=10)
    assert again.outcome == delivery.DELIVERED
    assert len(rec.at("/hook")) == 2


GATED_LOOKUPS_UNDER_GEVENT = """
from gevent import monkey

monkey.patch_all()

import gevent
import socket

from workers.contract import ssrf
from workers.notifications.webhooks.resolver_gate import ResolverGate, on_behalf_of

gate = ResolverGate(threads=32, per_tenant=2)

def lookup(tenant, host):
    with on_behalf_of(tenant):
        return gate.resolve(ssrf.system_resolver, host, 80)

def refused():
    try:
        lookup("t0", "no-such-host.invalid")
    except OSError as exc:
        return type(exc).__name__

jobs = [gevent.spawn(lookup, f"t{i % 16}", "localhost") for i in range(32)]
gevent.joinall(jobs, timeout=20)
answers = [job.value for job in jobs if job.successful()]
print(len(answers), all("127.0.0.1" in a for a in answers), refused(), gate.tenants())
"""


@pytest.mark.parametrize("run", range(3))
def test_gated_lookups_use_the_real_resolver_under_monkey_patching(run: int) -> None:
    # A fresh, monkey-patched interpreter each time, as in the worker: the first lookups
    # there import the idna codec, which deadlocked pool threads when several did it at once.
    out = run_python(GATED_LOOKUPS_UNDER_GEVENT, timeout=60).split()
    assert out == ["32", "True", "gaierror", "0"]


def test_proxy_environment_is_ignored(rec: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    result = delivery.attempt(
        client(), rec.url("/direct"), b"{}", {}, deadline_seconds=5, max_response_bytes=1024
    )
    assert result.outcome == delivery.DELIVERED
    assert len(rec.at("/direct")) == 1


def test_pool_is_keyed_by_hostname_not_by_address(rec: Receiver) -> None:
    shared = client()
    for host in ("a.hooks.test", "b.hooks.test", "a.hooks.test"):
        result = delivery.attempt(
            shared,
            rec.url("/pool", host=host),
            b"{}",
            {},
            deadline_seconds=5,
            max_response_bytes=1024,
        )
        assert result.outcome == delivery.DELIVERED
    shards = shared._transport._shards  # type: ignore[attr-defined]
    origins = sorted(c._origin.host.decode() for s in shards for c in s._pool.connections)
    # Both hostnames reach 127.0.0.1, yet each keeps its own connection (and TLS identity).
    assert origins == ["a.hooks.test", "b.hooks.test"]
    assert [r.headers["host"] for r in rec.at("/pool")] == [
        f"a.hooks.test:{rec.port}",
        f"b.hooks.test:{rec.port}",
        f"a.hooks.test:{rec.port}",
    ]


def test_redirect_is_reported_not_followed(rec: Receiver) -> None:
    rec.answer("/moved", (307, {"location": rec.url("/elsewhere")}))
    result = delivery.attempt(
        client(), rec.url("/moved"), b"{}", {}, deadline_seconds=5, max_response_bytes=1024
    )
    assert result.outcome == delivery.FAILED and result.status == 307
    assert rec.at("/elsewhere") == []
