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


def test_a_hanging_resolver_ends_at_the_deadline() -> None:
    import gevent

    resolved: list[str] = []

    def hanging(host: str, port: int) -> list[str]:
        resolved.append(host)
        gevent.sleep(30)  # a DNS server that never answers (green, as under the worker pool)
        return ["127.0.0.1"]

    hung = network.build_client(
        connect_timeout=30, read_timeout=30, resolver=hanging, allow_loopback=True
    )
    result = gevent.spawn(
        delivery.attempt,
        hung,
        "http://slow-dns.hooks.test/",
        b"{}",
        {},
        deadline_seconds=0.5,
        max_response_bytes=1024,
    ).get(timeout=10)
    assert resolved == ["slow-dns.hooks.test"]
    assert result.outcome == delivery.RETRY
    assert "deadline exceeded while resolving" in (result.error or "")


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
