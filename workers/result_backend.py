"""Celery's Redis result backend with an atomic, one-round-trip store.

Celery 5.7 stores a result in two round trips: a GET to see whether the task already
succeeded (so a redelivered duplicate cannot overwrite a SUCCESS), then a SETEX + PUBLISH
transaction. Between the two another worker can write, and every task pays the extra trip
(twice with ``task_track_started``). Here the check and the write are one Lua script:
the same rule, enforced atomically, in one round trip.

Selected by the result backend URL ``taskport-redis+redis://...`` (Celery's
``<backend>+<url>`` form, the alias registered with the ``override_backends`` setting), so
the URL, SSL and retry options are Celery's and Celery still masks the password in it.
"""

from __future__ import annotations

from typing import Any

from celery import states
from celery.backends.base import BackendStoreError
from celery.backends.redis import RedisBackend
from kombu.utils.encoding import bytes_to_str

ALIAS = "taskport-redis"
BACKENDS = {ALIAS: f"{__name__}:TaskportRedisBackend"}

_SUCCESS_PREFIX = '{"status": "SUCCESS"'
_STATUS_PREFIX = '{"status": '

# KEYS: meta key.  ARGV: encoded meta, ttl seconds (0: no expiry).
# 0 if the stored result is already SUCCESS (left as it is), else 1. Celery's JSON meta
# starts with its status, so the check reads a prefix: decoding a large result inside
# Redis would block the broker. Only a value in another shape is decoded.
STORE_UNLESS_SUCCESS = f"""
local current = redis.call('GET', KEYS[1])
if current then
  if string.sub(current, 1, {len(_SUCCESS_PREFIX)}) == '{_SUCCESS_PREFIX}' then return 0 end
  if string.sub(current, 1, {len(_STATUS_PREFIX)}) ~= '{_STATUS_PREFIX}' then
    local ok, decoded = pcall(cjson.decode, current)
    if ok and type(decoded) == 'table' and decoded['status'] == 'SUCCESS' then return 0 end
  end
end
local ttl = tonumber(ARGV[2])
if ttl > 0 then
  redis.call('SETEX', KEYS[1], ttl, ARGV[1])
else
  redis.call('SET', KEYS[1], ARGV[1])
end
redis.call('PUBLISH', KEYS[1], ARGV[1])
return 1
"""


def backend_url(redis_url: str) -> str:
    return f"{ALIAS}+{redis_url}"


class TaskportRedisBackend(RedisBackend):
    _store_script: Any = None

    def _store_result(
        self,
        task_id: str,
        result: Any,
        state: str,
        traceback: Any = None,
        request: Any = None,
        **kwargs: Any,
    ) -> Any:
        meta = self._get_result_meta(
            result=result, state=state, traceback=traceback, request=request
        )
        meta["task_id"] = bytes_to_str(task_id)
        value = self.encode(meta)
        if isinstance(value, str) and len(value) > self._MAX_STR_VALUE_SIZE:
            raise BackendStoreError(
                "value too large for Redis backend", state=state, task_id=task_id
            )
        expires = self.failure_expires if state == states.FAILURE else self.expires
        key = self.get_key_for_task(task_id)
        try:
            self.ensure(self._store_unless_success, (key, value, int(expires or 0)))
        except BackendStoreError as exc:
            raise BackendStoreError(str(exc), state=state, task_id=task_id) from exc
        return result

    def _store_unless_success(self, key: Any, value: Any, ttl: int) -> None:
        if self._store_script is None:
            # EVALSHA after the first call; redis-py reloads the script after a restart.
            self._store_script = self.client.register_script(STORE_UNLESS_SUCCESS)
        self._store_script(keys=[key], args=[value, ttl])
