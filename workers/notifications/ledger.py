"""The effect ledger: a side effect done for a task is recorded by task id + effect.

A redelivered message (worker killed after the effect, before the ack) finds the record and
returns the recorded outcome instead of sending the email or the webhook again. Records
live as long as task results (a redelivery after that is not possible: the visibility
timeout is far shorter).
"""

from __future__ import annotations

import json
from typing import Any

from workers.contract import keys


def recorded(client: Any, task_id: str, effect: str) -> dict[str, Any] | None:
    return parse(client.get(keys.effect_ledger(task_id, effect)))


def parse(raw: str | None) -> dict[str, Any] | None:
    """A ledger value as stored (callers that read it inside a script pass it here)."""
    return json.loads(raw) if raw else None


def record(client: Any, task_id: str, effect: str, outcome: dict[str, Any], ttl: int) -> None:
    client.set(keys.effect_ledger(task_id, effect), json.dumps(outcome), ex=ttl)
