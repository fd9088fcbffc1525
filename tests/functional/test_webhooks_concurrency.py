"""The per-endpoint in-flight cap on a real Redis: shared by every worker, leases expire."""

from __future__ import annotations

import time
from typing import Any

from workers.contract import keys
from workers.notifications import ledger
from workers.notifications.webhooks import concurrency


def acquire(client: Any, endpoint: str, holder: str, *, cap: int, lease_seconds: float) -> Any:
    return concurrency.acquire(
        client, endpoint, holder, cap=cap, lease_seconds=lease_seconds, done_key=f"done:{holder}"
    )


def test_cap_is_per_endpoint_and_released(redis_client: Any) -> None:
    assert acquire(redis_client, "ep_a", "t1", cap=2, lease_seconds=30)
    assert acquire(redis_client, "ep_a", "t2", cap=2, lease_seconds=30)
    assert not acquire(redis_client, "ep_a", "t3", cap=2, lease_seconds=30)
    # Another endpoint is not affected by a busy one.
    assert acquire(redis_client, "ep_b", "t4", cap=2, lease_seconds=30)
    concurrency.release(redis_client, "ep_a", "t1")
    assert acquire(redis_client, "ep_a", "t3", cap=2, lease_seconds=30)


def test_a_dead_holder_frees_its_slot_when_the_lease_ends(redis_client: Any) -> None:
    assert acquire(redis_client, "ep_c", "crashed", cap=1, lease_seconds=0.2)
    assert not acquire(redis_client, "ep_c", "next", cap=1, lease_seconds=30)
    deadline = time.monotonic() + 5
    while not acquire(redis_client, "ep_c", "next", cap=1, lease_seconds=30):
        assert time.monotonic() < deadline, "lease never expired"
        time.sleep(0.05)


def test_a_recorded_effect_is_returned_and_takes_no_slot(redis_client: Any) -> None:
    ledger.record(redis_client, "t9", "webhook", {"status": 200}, ttl=60)
    done_key = keys.effect_ledger("t9", "webhook")
    answer = concurrency.acquire(
        redis_client, "ep_d", "t9", cap=1, lease_seconds=30, done_key=done_key
    )
    assert ledger.parse(answer) == {"status": 200}
    # The slot was not taken: the only one is still free for another delivery.
    assert acquire(redis_client, "ep_d", "other", cap=1, lease_seconds=30) is True
