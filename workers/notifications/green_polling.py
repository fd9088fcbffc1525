"""Keep a gevent worker fetching while its prefetch window is full.

Green pools run Celery's blocking ``synloop``: ``drain_events(timeout=2.0)``. When every
prefetch slot is taken, kombu's Redis poller stops polling BRPOP and waits the whole 2 s
on the other sockets (pidbox) before it looks at its credit again, so a busy worker takes
work in bursts with ~2 s gaps (measured: 20 emails/s became 7-10/s). While credit is
exhausted we poll in short slices instead, so a finished task's slot is refilled within
~50 ms. An idle worker keeps the 2 s wait (BRPOP wakes it).
"""

from __future__ import annotations

from typing import Any

_SLICE_SECONDS = 0.05


def install() -> None:
    from kombu.transport import redis as kombu_redis

    poller = kombu_redis.MultiChannelPoller
    original = poller.get
    if getattr(original, "_taskport_sliced", False):
        return

    def get(self: Any, callback: Any, timeout: float | None = None) -> Any:
        starved = any(
            not channel.qos.can_consume() for channel in self._channels if channel.active_queues
        )
        if starved and (timeout is None or timeout > _SLICE_SECONDS):
            timeout = _SLICE_SECONDS
        return original(self, callback, timeout)

    get._taskport_sliced = True  # type: ignore[attr-defined]
    poller.get = get  # type: ignore[method-assign]
