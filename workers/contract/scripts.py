"""Lua scripts both sides run, so each state change is one atomic Redis round trip.

Record and index layout: see ``workers.contract.keys`` and ``workers.contract.records``.
"""

from typing import Final

from workers.contract import records

_STATES_LUA = "{" + ", ".join(f"'{s}'" for s in records.STATES) + "}"

# Submit: claim the idempotency key (if any), write the owner record and indexes, enqueue.
# KEYS: record, idx_tenant, idx_pending, idx_task, queue_list, idem ("" when none)
# ARGV: task_id, tenant, task, queue, now_s, now_ms, ttl, envelope, idem_ttl, idem_value
# Returns nil when enqueued, or the stored idempotency value when the key was used before.
SUBMIT: Final = """
local idem = KEYS[6]
if idem ~= '' then
  local existing = redis.call('GET', idem)
  if existing then return existing end
end
local ttl = tonumber(ARGV[7])
local now_ms = tonumber(ARGV[6])
local oldest = now_ms - ttl * 1000
redis.call('HSET', KEYS[1], 'tenant', ARGV[2], 'task', ARGV[3], 'queue', ARGV[4],
  'state', 'PENDING', 'submitted', ARGV[5], 'attempts', 0)
redis.call('EXPIRE', KEYS[1], ttl)
for i = 2, 4 do
  redis.call('ZADD', KEYS[i], now_ms, ARGV[1])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', oldest)
  redis.call('EXPIRE', KEYS[i], ttl)
end
redis.call('LPUSH', KEYS[5], ARGV[8])
if idem ~= '' then
  redis.call('SET', idem, ARGV[10], 'EX', tonumber(ARGV[9]))
end
return false
"""

# Move a task to a new state: record fields + per-state index membership.
# A task with no record (sent by another Celery client) is left alone.
# KEYS: record.  ARGV: task_id, state, index_prefix, then field/value pairs to HSET.
# A final state is never left. Returns the previous state, or false when there is no record.
SET_STATE: Final = (
    """
local rec = KEYS[1]
local prev = redis.call('HGET', rec, 'state')
if not prev then return false end
if prev == 'SUCCESS' or prev == 'FAILURE' or prev == 'REVOKED' then return prev end
local tenant = redis.call('HGET', rec, 'tenant')
local submitted = redis.call('ZSCORE', ARGV[3] .. tenant, ARGV[1])
local states = """
    + _STATES_LUA
    + """
if submitted then
  for _, s in ipairs(states) do
    if s ~= ARGV[2] then redis.call('ZREM', ARGV[3] .. tenant .. ':state:' .. s, ARGV[1]) end
  end
  redis.call('ZADD', ARGV[3] .. tenant .. ':state:' .. ARGV[2], submitted, ARGV[1])
end
redis.call('HSET', rec, 'state', ARGV[2])
for i = 4, #ARGV, 2 do
  if ARGV[i] == 'attempts' then
    redis.call('HINCRBY', rec, 'attempts', ARGV[i + 1])
  else
    redis.call('HSET', rec, ARGV[i], ARGV[i + 1])
  end
end
return prev
"""
)

# Start a run: a task whose durable cancel flag is set does not start, nor one whose
# pool process died under it MAX_LOST_RUNS times; both return a marker below.
# Otherwise SET_STATE to STARTED.  KEYS: record, cancel flag.  ARGV: as SET_STATE.
START_CANCELLED: Final = "__cancelled__"
START_LOST_TOO_OFTEN: Final = "__lost__"
START: Final = (
    f"""
if redis.call('EXISTS', KEYS[2]) == 1 then return '{START_CANCELLED}' end
local lost = tonumber(redis.call('HGET', KEYS[1], '{records.F_LOST_RUNS}') or '0')
if lost >= {records.MAX_LOST_RUNS} then return '{START_LOST_TOO_OFTEN}' end
"""
    + SET_STATE
)

# Count a run lost with its pool process (written by the worker's main process).
# KEYS: record.  Returns the count, 0 when there is no record.
COUNT_LOST_RUN: Final = f"""
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
return redis.call('HINCRBY', KEYS[1], '{records.F_LOST_RUNS}', 1)
"""

# Cancel: set the durable flag; a task not yet running becomes REVOKED at once.
# KEYS: record, celery meta, cancel flag.  ARGV: task_id, now_s, flag_ttl, index_prefix
# Returns the state before the cancel (a final state means nothing changed).
CANCEL: Final = """
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return false end
local meta = redis.call('GET', KEYS[2])
if meta then
  local ok, decoded = pcall(cjson.decode, meta)
  if ok and (decoded['status'] == 'SUCCESS' or decoded['status'] == 'FAILURE'
             or decoded['status'] == 'REVOKED') then
    return decoded['status']
  end
end
if state == 'SUCCESS' or state == 'FAILURE' or state == 'REVOKED' then return state end
redis.call('SET', KEYS[3], ARGV[2], 'EX', tonumber(ARGV[3]))
if state == 'PENDING' or state == 'RETRY' then
  local tenant = redis.call('HGET', KEYS[1], 'tenant')
  local submitted = redis.call('ZSCORE', ARGV[4] .. tenant, ARGV[1])
  if submitted then
    redis.call('ZREM', ARGV[4] .. tenant .. ':state:' .. state, ARGV[1])
    redis.call('ZADD', ARGV[4] .. tenant .. ':state:REVOKED', submitted, ARGV[1])
  end
  redis.call('HSET', KEYS[1], 'state', 'REVOKED', 'finished', ARGV[2])
end
return state
"""
