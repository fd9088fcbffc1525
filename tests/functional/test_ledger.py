"""The effect ledger on a real Redis: an effect recorded once answers every redelivery.

The worker path (a redelivered webhook task does not POST twice) is in
tests/e2e/test_webhooks_worker.py.
"""

from __future__ import annotations

from typing import Any

from workers.contract import keys
from workers.notifications import ledger


def test_recorded_effect_is_found_and_expires(redis_client: Any) -> None:
    assert ledger.recorded(redis_client, "task-1", "email") is None
    ledger.record(redis_client, "task-1", "email", {"message_id": "m-1"}, ttl=120)
    assert ledger.recorded(redis_client, "task-1", "email") == {"message_id": "m-1"}
    assert ledger.recorded(redis_client, "task-1", "webhook") is None
    assert 0 < redis_client.ttl(keys.effect_ledger("task-1", "email")) <= 120
