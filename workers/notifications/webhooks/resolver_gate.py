"""Webhook name resolution under the green pool, with a per-tenant share of its threads.

gevent resolves names in its hub's thread pool (10 threads unless the worker sets more),
and ``getaddrinfo`` blocks its thread until the system resolver gives up: with glibc's
defaults 5 s per try, 2 tries, per nameserver and per address family, however short the
delivery's deadline. A delivery that stops waiting leaves its thread busy. Without a gate,
one tenant whose endpoints' DNS never answers would fill the pool and every tenant's new
connections would wait on DNS. So a tenant may hold at most ``per_tenant`` of the pool's
threads, counted until its lookups really end; waiting for a turn is green and ends with
the caller's deadline.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

from workers.contract import ssrf

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
    """At most ``per_tenant`` lookups of one tenant (without a tenant: of one hostname)
    in the hub's thread pool at a time."""

    def __init__(self, per_tenant: int) -> None:
        self._per_tenant = per_tenant
        self._shares: dict[str, _Share] = {}

    def resolve(self, resolver: ssrf.Resolver, host: str, port: int) -> list[str]:
        from gevent import get_hub
        from gevent.lock import Semaphore

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
            job = get_hub().threadpool.spawn(_native(resolver), host, port)
        except BaseException:
            self._leave(key, share, holding=True)
            raise
        # The turn is given back when the thread is done, not when the caller gives up.
        job.rawlink(lambda _: self._leave(key, share, holding=True))
        result: list[str] = job.get()
        return result

    def _leave(self, key: str, share: _Share, *, holding: bool) -> None:
        if holding:
            share.turns.release()
        share.users -= 1
        if share.users == 0 and self._shares.get(key) is share:
            del self._shares[key]

    def tenants(self) -> int:
        """How many tenants (or hostnames) hold or wait for a turn right now."""
        return len(self._shares)


def _native(resolver: ssrf.Resolver) -> ssrf.Resolver:
    """The system resolver with the real ``getaddrinfo``: it runs in a pool thread, where
    gevent's patched one would start a hub and another pool of its own."""
    if resolver is not ssrf.system_resolver:
        return resolver
    from gevent import monkey

    if not monkey.is_module_patched("socket"):
        return resolver
    original = monkey.get_original("socket", "getaddrinfo")
    return partial(ssrf.system_resolver, getaddrinfo=original)


def pool_threads(at_least: int) -> None:
    """Let the hub's thread pool (gevent's resolver runs there) grow to ``at_least``."""
    from gevent import get_hub

    pool = get_hub().threadpool
    pool.maxsize = max(pool.maxsize, at_least)
