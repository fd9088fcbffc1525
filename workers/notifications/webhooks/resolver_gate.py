"""Webhook name resolution under the green pool: its own threads, a share per tenant.

``getaddrinfo`` blocks an OS thread until the system resolver gives up (with glibc's
defaults 5 s per try, 2 tries, per nameserver and per address family), however short the
delivery's deadline, and a delivery that stops waiting leaves its thread busy. gevent
resolves in its hub's thread pool (10 threads), which the broker, the result backend and
the AWS SDK resolve in too. So webhook lookups run in a pool of their own, and one tenant
may hold only ``per_tenant`` of its threads, counted until its lookups really end: a
tenant whose endpoints' DNS never answers slows its own deliveries, not other tenants'
(unless several such tenants fill the pool together) and not the worker's own
connections. Waiting for a turn is green and ends with the caller's deadline.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any

from workers.contract import ssrf

# Defaults for clients built without the worker's settings (which document the same).
DEFAULT_THREADS = 32
DEFAULT_PER_TENANT = 4

_tenant: contextvars.ContextVar[str | None] = contextvars.ContextVar("webhook_tenant", default=None)


@contextmanager
def on_behalf_of(tenant: str | None) -> Iterator[None]:
    """Lookups inside the block count against ``tenant``'s share."""
    token = _tenant.set(tenant)
    try:
        yield
    finally:
        _tenant.reset(token)


@dataclass
class _Share:
    turns: Any  # gevent.lock.Semaphore
    users: int = 0  # greenlets holding or waiting for a turn, or threads still resolving


class ResolverGate:
    """Lookups in a pool of ``threads`` threads, at most ``per_tenant`` of one tenant
    (without a tenant: of one hostname) at a time. Used from the hub's thread only."""

    def __init__(self, *, threads: int, per_tenant: int) -> None:
        self._threads = threads
        self._per_tenant = per_tenant
        self._shares: dict[str, _Share] = {}
        self._pool: Any = None  # built on first use: after fork, on the worker's hub

    def resolve(self, resolver: ssrf.Resolver, host: str, port: int) -> list[str]:
        from gevent.lock import Semaphore
        from gevent.threadpool import ThreadPool

        getaddrinfo = _real_getaddrinfo()
        if self._pool is None:
            self._pool = ThreadPool(self._threads)
        key = _tenant.get() or f"host:{host}"
        share = self._shares.get(key)
        if share is None:
            share = self._shares[key] = _Share(Semaphore(self._per_tenant))
        share.users += 1
        try:
            share.turns.acquire()  # a gevent.Timeout around the caller ends the wait
        except BaseException:
            self._leave(key, share, holding=False)
            raise
        try:
            job = self._pool.spawn(_lookup, resolver, host, port, getaddrinfo)
        except BaseException:
            self._leave(key, share, holding=True)
            raise
        # The turn is given back when the thread is done, not when the caller gives up.
        job.rawlink(lambda _: self._leave(key, share, holding=True))
        answers, error = job.get()
        if error is not None:
            raise error
        return list(answers)

    def _leave(self, key: str, share: _Share, *, holding: bool) -> None:
        if holding:
            share.turns.release()
        share.users -= 1
        if share.users == 0 and self._shares.get(key) is share:
            del self._shares[key]

    def tenants(self) -> int:
        """How many tenants (or hostnames) hold or wait for a turn right now."""
        return len(self._shares)


def _lookup(
    resolver: ssrf.Resolver, host: str, port: int, getaddrinfo: Callable[..., Any] | None
) -> tuple[list[str], Exception | None]:
    # Runs in a pool thread. An error is handed back as a value: raised here, gevent would
    # print it as an unhandled error of the pool before the caller re-raises it.
    token = ssrf.lookup_function.set(getaddrinfo)
    try:
        return resolver(host, port), None
    except Exception as exc:
        return [], exc
    finally:
        ssrf.lookup_function.reset(token)


@cache
def _real_getaddrinfo() -> Callable[..., Any] | None:
    """The unpatched ``getaddrinfo`` if gevent patched socket (else None: socket's own)."""
    # The first lookup of a str host imports the idna codec. In pool threads under monkey
    # patching, several first imports at once can deadlock on gevent's import locks
    # (gevent#349; gevent's own resolver imports it up front too), so import it here, in
    # the hub's thread.
    "x".encode("idna")
    from gevent import monkey

    if not monkey.is_module_patched("socket"):
        return None
    original: Callable[..., Any] = monkey.get_original("socket", "getaddrinfo")
    return original
