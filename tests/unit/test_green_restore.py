"""The restore of dead workers' unacknowledged messages in green workers, spaced out and
never fatal (workers/notifications/green_polling.py), with a fake poller and clock.

That a real gevent worker brings a killed worker's task back is in
tests/e2e/test_worker_faults.py.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import pytest
import redis

from workers.notifications import green_polling


@dataclass(frozen=True)
class FakeChannel:
    active_queues: tuple[str, ...] = ("notifications",)
    unacked_restore_interval: int = 10


@dataclass
class FakePoller:
    """Stands in for kombu's MultiChannelPoller: only what the restore reads."""

    _channels: list[Any] = field(default_factory=list)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1000.0]
    monkeypatch.setattr(green_polling.time, "monotonic", lambda: now[0])
    return now


def test_restores_at_most_once_per_half_interval(clock: list[float]) -> None:
    poller = FakePoller([FakeChannel()])
    calls: list[float] = []
    for _ in range(20):  # an empty poll every 50 ms for a second
        green_polling.spaced_restore(poller, lambda p: calls.append(clock[0]))
        clock[0] += 0.05
    assert calls == [1000.0]
    clock[0] = 1005.0  # half the interval after the first: kombu's timer would pass here
    green_polling.spaced_restore(poller, lambda p: calls.append(clock[0]))
    assert calls == [1000.0, 1005.0]


def test_a_poller_without_consuming_channels_restores_nothing(clock: list[float]) -> None:
    calls: list[Any] = []
    green_polling.spaced_restore(FakePoller([FakeChannel(active_queues=())]), calls.append)
    assert calls == []


def test_a_redis_error_is_logged_not_raised(
    clock: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    def refused(_: Any) -> None:
        raise redis.exceptions.OutOfMemoryError("command not allowed when used memory > maxmemory")

    poller = FakePoller([FakeChannel()])
    with caplog.at_level(logging.WARNING, logger=green_polling.__name__):
        green_polling.spaced_restore(poller, refused)
    assert "restoring unacknowledged messages failed" in caplog.text
    # The next attempt comes after the spacing, not on the next poll.
    calls: list[Any] = []
    green_polling.spaced_restore(poller, calls.append)
    assert calls == []
    clock[0] += 5
    green_polling.spaced_restore(poller, calls.append)
    assert calls == [poller]
