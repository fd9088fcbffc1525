"""Worker-side writes to the task record and its indexes (one Lua call per change)."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any, NamedTuple

from workers.contract import keys, records, scripts

if TYPE_CHECKING:
    import redis


class _Connection(NamedTuple):
    pid: int
    client: redis.Redis
    set_state: Any  # registered scripts (EVALSHA after the first call)
    start: Any
    count_lost_run: Any


_conn: _Connection | None = None

CANCELLED = scripts.START_CANCELLED
LOST_TOO_OFTEN = scripts.START_LOST_TOO_OFTEN


def state_client() -> redis.Redis:
    """One client per process, created after fork (prefork children must not share it)."""
    return _connection().client


def _connection() -> _Connection:
    global _conn  # noqa: PLW0603 - a per-process cache keyed by pid
    pid = os.getpid()
    if _conn is None or _conn.pid != pid:
        import redis

        from workers.app import app

        client = redis.Redis.from_url(
            app.conf.broker_url,
            decode_responses=True,
            socket_timeout=10,
            socket_connect_timeout=5,
            health_check_interval=25,
        )
        _conn = _Connection(
            pid,
            client,
            client.register_script(scripts.SET_STATE),
            client.register_script(scripts.START),
            client.register_script(scripts.COUNT_LOST_RUN),
        )
    return _conn


def _argv(task_id: str, state: str, fields: dict[str, Any]) -> list[Any]:
    argv: list[Any] = [task_id, state, keys.INDEX_PREFIX]
    for name, value in fields.items():
        argv.extend((name, value))
    return argv


def set_state(task_id: str, state: str, **fields: Any) -> str | None:
    """Move the task's record to ``state``; returns the previous state (None: no record)."""
    prev = _connection().set_state(
        keys=[keys.task_record(task_id)], args=_argv(task_id, state, fields)
    )
    return prev or None


def start(task_id: str) -> str | None:
    """Begin a run in one round trip: ``CANCELLED`` if the durable cancel flag is set,
    ``LOST_TOO_OFTEN`` if its pool process died under it too often (nothing changed in
    either case), else the record moves to STARTED and the previous state is returned."""
    fields = {records.F_STARTED: time.time(), records.F_ATTEMPTS: 1}
    prev = _connection().start(
        keys=[keys.task_record(task_id), keys.cancel_flag(task_id)],
        args=_argv(task_id, records.STARTED, fields),
    )
    return prev or None


def mark_finished(task_id: str, state: str) -> None:
    set_state(task_id, state, **{records.F_FINISHED: time.time()})


def count_lost_run(task_id: str) -> int:
    """One more run of this task lost with its pool process; the count so far."""
    return int(_connection().count_lost_run(keys=[keys.task_record(task_id)]))


def is_cancelled(task_id: str) -> bool:
    return bool(state_client().exists(keys.cancel_flag(task_id)))
