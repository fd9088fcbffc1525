"""The per-endpoint in-flight cap on a real Redis: shared by every worker, leases expire."""

from __future__ import annotations

import time
from typing import Any

from workers.notifications.webhooks import concurrency


def test_cap_is_per_endpoint_and_released(redis_client: Any) -> None:
    assert concurrency.acquire(redis_client, "ep_a", "t1", cap=2, lease_seconds=30)
    assert concurrency.acquire(redis_client, "ep_a", "t2", cap=2, lease_seconds=30)
    assert not concurrency.acquire(redis_client, "ep_a", "t3", cap=2, lease_seconds=30)
    # Another endpoint is not affected by a busy one.
    assert concurrency.acquire(redis_client, "ep_b", "t4", cap=2, lease_seconds=30)
    concurrency.release(redis_client, "ep_a", "t1")
    assert concurrency.acquire(redis_client, "ep_a", "t3", cap=2, lease_seconds=30)


def test_a_dead_holder_frees_its_slot_when_the_lease_ends(redis_client: Any) -> None:
    assert concurrency.acquire(redis_client, "ep_c", "crashed", cap=1, lease_seconds=0.2)
    assert not concurrency.acquire(redis_client, "ep_c", "next", cap=1, lease_seconds=30)
    deadline = time.monotonic() + 5
    while not concurrency.acquire(redis_client, "ep_c", "next", cap=1, lease_seconds=30):
        assert time.monotonic() < deadline, "lease never expired"
        time.sleep(0.05)
