"""The retry schedule: a Redis sorted set of due re-enqueues, swept every minute.

DESIGN 5: a countdown longer than the visibility timeout would be redelivered while it
still waits, so long retries (SES quota windows, webhook backoff of minutes to hours) are
stored here as ready-made Celery messages scored by their due time. The catalog schedule
``maintenance.retry-sweep`` (EventBridge in AWS, the ticker locally) runs
``sweep`` every minute, which moves due messages onto their queue lists atomically.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any, cast

from workers.contract import keys, message
from workers.contract.headers import ENQUEUED_AT_HEADER

# KEYS: schedule zset.  ARGV: now, limit.  Moves due entries onto their queue lists.
SWEEP = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, member in ipairs(due) do
  local entry = cjson.decode(member)
  redis.call('LPUSH', entry['list'], entry['envelope'])
  redis.call('ZREM', KEYS[1], member)
end
return #due
"""


def defer(
    client: Any,
    *,
    task_name: str,
    task_id: str,
    queue: str,
    kwargs: Mapping[str, Any],
    headers: Mapping[str, Any],
    retries: int,
    due_at: float,
) -> None:
    """Schedule ``task_id`` to run again at ``due_at`` (epoch seconds), same id and headers."""
    envelope = message.build_envelope(
        task_name=task_name,
        task_id=task_id,
        queue=queue,
        kwargs=kwargs,
        # Celery reads ``retries`` as an int header; the contract types headers as strings.
        # enqueued_at = when it becomes due, so the backlog's oldest-age metric does not
        # count the deliberate delay.
        headers=cast(Any, {**headers, "retries": retries, ENQUEUED_AT_HEADER: due_at}),
    )
    member = json.dumps({"list": message.queue_list_key(queue), "envelope": envelope})
    client.zadd(keys.RETRY_SCHEDULE, {member: due_at})


def sweep(client: Any, *, limit: int = 1000, now: float | None = None) -> int:
    """Move every entry due by ``now`` (at most ``limit``) to its queue; returns the count."""
    now = time.time() if now is None else now
    return int(client.eval(SWEEP, 1, keys.RETRY_SCHEDULE, now, limit))


def pending(client: Any) -> int:
    return int(client.zcard(keys.RETRY_SCHEDULE))
