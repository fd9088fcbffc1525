"""Keep a gevent worker fetching while its prefetch window is full.

Green pools run Celery's blocking ``synloop``: ``drain_events(timeout=2.0)``. When every
prefetch slot is taken, kombu's Redis poller stops polling BRPOP and waits the whole 2 s
on the other sockets (pidbox) before it looks at its credit again, so a busy worker takes
work in bursts with ~2 s gaps (measured: 20 emails/s became 7-10/s). While credit is
exhausted we poll in short slices instead, so a finished task's slot is refilled within
~50 ms. An idle worker keeps the 2 s wait (BRPOP wakes it).

It also restores dead workers' unacknowledged messages. kombu does that on a timer in the
event loop (prefork's ``asynloop``); in ``synloop`` it tries only after a poll that
returned nothing at all, and an idle BRPOP returns nil every second, which ends the poll
first. So a green worker never restored: a worker killed with tasks in flight had them
back only when a prefork worker happened to be running.
"""

from __future__ import annotations

import logging
import time
from typing import Any

log = logging.getLogger(__name__)

_SLICE_SECONDS = 0.05


def install() -> None:
    from kombu.transport import redis as kombu_redis

    poller = kombu_redis.MultiChannelPoller
    original = poller.get
    if getattr(original, "_taskport_sliced", False):
        return
    original_restore = poller.maybe_restore_messages

    def maybe_restore_messages(self: Any) -> None:
        spaced_restore(self, original_restore)

    def get(self: Any, callback: Any, timeout: float | None = None) -> Any:
        self.maybe_restore_messages()
        starved = any(
            not channel.qos.can_consume() for channel in self._channels if channel.active_queues
        )
        if starved and (timeout is None or timeout > _SLICE_SECONDS):
            timeout = _SLICE_SECONDS
        return original(self, callback, timeout)

    get._taskport_sliced = True  # type: ignore[attr-defined]
    poller.get = get  # type: ignore[method-assign]
    poller.maybe_restore_messages = maybe_restore_messages  # type: ignore[method-assign]


def spaced_restore(poller: Any, restore: Any) -> None:
    """kombu's restore of messages unacknowledged past the visibility timeout, at most
    once per half ``unacked_restore_interval``, never raising."""
    # Half: prefork's event-loop timer calls every interval and must always pass; what is
    # spaced out is synloop's fallback after every empty poll (20 a second while the 50 ms
    # slices are in use) and the call at the start of every ``get``.
    now = time.monotonic()
    if now < getattr(poller, "_taskport_restore_at", 0.0):  # the common case: one check
        return
    channels = [channel for channel in poller._channels if channel.active_queues]
    if not channels:
        return
    poller._taskport_restore_at = now + channels[0].unacked_restore_interval / 2
    try:
        restore(poller)
    except Exception:
        # kombu catches connection errors only; another (a full Redis refusing the restore's
        # mutex) must not end the consumer: the next interval tries again.
        log.warning("restoring unacknowledged messages failed", exc_info=True)
