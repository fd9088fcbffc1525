"""A token bucket in Redis shared by every worker (SES's max send rate is per account).

Celery's ``rate_limit`` is per worker and cannot hold an aggregate rate. The bucket uses
Redis' clock (one clock for every worker), refills at ``rate`` tokens per second up to
``burst``, and is charged per recipient. A cost above the burst is allowed once the bucket
is full (the balance goes negative and must refill), so a 50-recipient email still goes
out at a 14/s account rate, and the long-run rate holds.

A caller whose wait is short (``max_wait``) *reserves* its tokens (the balance goes
negative) and sleeps until its slot: callers get distinct, evenly spaced slots instead of
waking together and racing for the next token. Longer waits reserve nothing; the caller
re-enqueues itself and asks again later.
"""

from __future__ import annotations

from typing import Any

from workers.contract import keys

# KEYS: bucket.  ARGV: rate, burst, cost, max_wait.
# Returns {wait, reserved}: reserved=1 means the tokens are taken (send after ``wait``).
TAKE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local max_wait = tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local need = math.min(cost, burst)
local wait = 0
local reserved = 1
if tokens < need then
  wait = (need - tokens) / rate
  if wait > max_wait then reserved = 0 end
end
if reserved == 1 then tokens = tokens - cost end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 60)
return {tostring(wait), reserved}
"""


class TokenBucket:
    def __init__(self, client: Any, name: str, *, rate: float, burst: float) -> None:
        self._script = client.register_script(TAKE)
        self._key = keys.rate_limit_bucket(name)
        self.rate = rate
        self.burst = burst

    def take(self, cost: float, max_wait: float = 0.0) -> tuple[float, bool]:
        """``(wait, reserved)``: reserved tokens may be used after ``wait`` seconds;
        otherwise ``wait`` says when to ask again."""
        wait, reserved = self._script(
            keys=[self._key], args=[self.rate, self.burst, cost, max_wait]
        )
        return float(wait), bool(int(reserved))
