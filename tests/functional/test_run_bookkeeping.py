"""The worker's start-of-run and lost-run scripts on a real Redis (the Lua the workers run).

Worker-level behaviour (a queued cancel, a SIGKILLed pool child finishing on its second
run, a task that keeps killing its pool child failing) is in tests/e2e/test_worker_cancel.py
and tests/e2e/test_worker_faults.py.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from workers.contract import keys, records, scripts

TASK_ID = "run-1"
RECORD = keys.task_record(TASK_ID)


@pytest.fixture
def run(redis_client: Any) -> Any:
    """start() and lost() as the worker calls them, for one submitted task."""
    start_script = redis_client.register_script(scripts.START)
    count_lost = redis_client.register_script(scripts.COUNT_LOST_RUN)
    redis_client.hset(
        RECORD,
        mapping={records.F_TENANT: "t", records.F_STATE: records.PENDING, records.F_ATTEMPTS: 0},
    )

    class Run:
        def start(self) -> Any:
            argv = [TASK_ID, records.STARTED, keys.INDEX_PREFIX]
            argv += [records.F_STARTED, time.time(), records.F_ATTEMPTS, 1]
            return start_script(keys=[RECORD, keys.cancel_flag(TASK_ID)], args=argv)

        def lost(self) -> int:
            return int(count_lost(keys=[RECORD]))

        def field(self, name: str) -> str | None:
            value = redis_client.hget(RECORD, name)
            return value if value is None else str(value)

    return Run()


def test_runs_that_were_not_lost_never_stop_a_task(run: Any, redis_client: Any) -> None:
    # Retries and redeliveries after a whole worker died (never counted as lost) start again.
    assert run.start() == records.PENDING  # the previous state
    for _ in range(records.MAX_LOST_RUNS + 2):
        assert run.start() == records.STARTED
    assert run.field(records.F_ATTEMPTS) == str(records.MAX_LOST_RUNS + 3)
    # A record written before lost runs were counted has no such field: it starts too.
    redis_client.hdel(RECORD, records.F_LOST_RUNS)
    assert run.start() == records.STARTED


def test_a_task_whose_pool_process_keeps_dying_is_refused(run: Any) -> None:
    for count in range(1, records.MAX_LOST_RUNS + 1):
        assert run.start() != scripts.START_LOST_TOO_OFTEN
        assert run.lost() == count
    assert run.start() == scripts.START_LOST_TOO_OFTEN
    # Refusing changed nothing: the record still shows the runs that were started.
    assert run.field(records.F_ATTEMPTS) == str(records.MAX_LOST_RUNS)


def test_a_lost_run_of_an_unknown_task_writes_nothing(redis_client: Any) -> None:
    count_lost = redis_client.register_script(scripts.COUNT_LOST_RUN)
    assert count_lost(keys=[keys.task_record("no-such-task")]) == 0
    assert not redis_client.exists(keys.task_record("no-such-task"))


def test_a_cancel_flag_wins_over_everything(run: Any, redis_client: Any) -> None:
    redis_client.set(keys.cancel_flag(TASK_ID), "1")
    assert run.start() == scripts.START_CANCELLED
    assert run.field(records.F_STATE) == records.PENDING
    assert run.field(records.F_ATTEMPTS) == "0"
