"""A per-endpoint cap on deliveries in flight, across every worker process.

One slow endpoint must not take every slot of the notifications workers. Slots are leases
in a sorted set scored by expiry (the delivery deadline plus a margin), so a worker killed
mid-delivery frees its slot by itself. A task that finds the endpoint full is re-enqueued
with a short countdown instead of waiting in a slot.
"""

from __future__ import annotations

import time
from typing import Any

from workers.contract import keys

# KEYS: zset, done key.  ARGV: now, expires_at, member, cap, ttl.
# The done key's value if it exists (nothing taken), else 1 if acquired, 0 if full.
ACQUIRE = """
local done = redis.call('GET', KEYS[2])
if done then return done end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[5]))
return 1
"""


_scripts: dict[int, Any] = {}


def acquire(
    client: Any, endpoint_id: str, holder: str, *, cap: int, lease_seconds: float, done_key: str
) -> bool | str:
    """Take a slot: True, or False when the endpoint is full; or, when ``done_key`` exists
    (the effect ledger), its value and no slot: one round trip for both checks."""
    script = _scripts.get(id(client))
    if script is None:
        # EVALSHA from the second call on (the script body is not resent every time).
        script = _scripts[id(client)] = client.register_script(ACQUIRE)
    now = time.time()
    ttl = int(lease_seconds) + 60
    answer = script(
        keys=[keys.webhook_inflight(endpoint_id), done_key],
        args=[now, now + lease_seconds, holder, cap, ttl],
    )
    return answer if isinstance(answer, str) else bool(answer)


def release(client: Any, endpoint_id: str, holder: str) -> None:
    """Free the slot (``client`` may be a pipeline the caller executes)."""
    client.zrem(keys.webhook_inflight(endpoint_id), holder)
