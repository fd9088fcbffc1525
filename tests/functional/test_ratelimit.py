"""The global SES token bucket on a real Redis (Redis' clock, shared by every worker)."""

from __future__ import annotations

from typing import Any

from workers.contract import keys
from workers.notifications.ratelimit import TokenBucket


def test_burst_then_reservations_are_spaced(redis_client: Any) -> None:
    bucket = TokenBucket(redis_client, keys.SES_RATE_BUCKET, rate=10, burst=2)
    assert bucket.take(1) == (0.0, True)
    assert bucket.take(1) == (0.0, True)
    # Empty: a short wait is reserved (distinct slots, 1/rate apart)...
    wait1, reserved1 = bucket.take(1, max_wait=1.0)
    wait2, reserved2 = bucket.take(1, max_wait=1.0)
    assert reserved1 and reserved2
    # Slots are 1/rate apart (less whatever time passed between the two calls).
    assert 0 < wait1 < wait2 <= wait1 + 0.1 + 1e-6
    # ...a wait beyond max_wait reserves nothing.
    wait3, reserved3 = bucket.take(1, max_wait=0.05)
    assert not reserved3 and wait3 > wait2


def test_charged_per_recipient_and_big_sends_are_not_starved(redis_client: Any) -> None:
    bucket = TokenBucket(redis_client, keys.SES_RATE_BUCKET, rate=5, burst=5)
    # A 50-recipient email fits once the bucket is full, then the debt must refill.
    assert bucket.take(50) == (0.0, True)
    wait, reserved = bucket.take(1, max_wait=0)
    assert not reserved and wait >= (50 - 5 + 1) / 5 - 0.1


def test_bucket_key_expires(redis_client: Any) -> None:
    TokenBucket(redis_client, keys.SES_RATE_BUCKET, rate=20, burst=20).take(1)
    assert 0 < redis_client.ttl(keys.rate_limit_bucket(keys.SES_RATE_BUCKET)) <= 61
