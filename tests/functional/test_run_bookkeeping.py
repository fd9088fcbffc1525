"""The worker's start/end-of-run scripts on a real Redis (the same Lua the workers run).

Worker-level behaviour (a queued cancel, a SIGKILLed pool child finishing on its second
run) is in tests/e2e/test_worker_cancel.py and tests/e2e/test_worker_faults.py.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from workers.contract import keys, records, scripts

TASK_ID = "run-1"


@pytest.fixture
def run(redis_client: Any) -> Any:
    """start() and end(state) as the worker calls them, for one submitted task."""
    start_script = redis_client.register_script(scripts.START)
    set_state = redis_client.register_script(scripts.SET_STATE)
    count_end = redis_client.register_script(scripts.COUNT_RUN_END)
    record = keys.task_record(TASK_ID)
    redis_client.hset(
        record,
        mapping={records.F_TENANT: "t", records.F_STATE: records.PENDING, records.F_ATTEMPTS: 0},
    )

    class Run:
        def start(self) -> Any:
            argv = [TASK_ID, records.STARTED, keys.INDEX_PREFIX]
            argv += [records.F_STARTED, time.time(), records.F_ATTEMPTS, 1]
            return start_script(keys=[record, keys.cancel_flag(TASK_ID)], args=argv)

        def end(self, state: str | None) -> None:
            if state is None:  # Ignore'd: only counted
                count_end(keys=[record])
                return
            argv = [TASK_ID, state, keys.INDEX_PREFIX, records.F_RUNS_ENDED, 1]
            set_state(keys=[record], args=argv)

        def field(self, name: str) -> str | None:
            value = redis_client.hget(record, name)
            return value if value is None else str(value)

    return Run()


def test_runs_that_end_never_count_as_lost(run: Any) -> None:
    assert run.start() == records.PENDING  # the previous state
    run.end(records.RETRY)
    for _ in range(records.MAX_LOST_RUNS + 1):
        assert run.start() == records.RETRY
        run.end(records.RETRY)
    assert run.start() == records.RETRY
    run.end(None)  # re-enqueued for later (Ignore): counted, state left as it is
    assert run.start() == records.STARTED
    assert run.field(records.F_ATTEMPTS) == str(records.MAX_LOST_RUNS + 4)


def test_a_task_whose_runs_keep_dying_is_refused(run: Any) -> None:
    # Each start without an end is a run that died with its process (OOM, SIGKILL).
    for _ in range(records.MAX_LOST_RUNS):
        assert run.start() != scripts.START_LOST_TOO_OFTEN
    assert run.start() == scripts.START_LOST_TOO_OFTEN
    # Refusing changed nothing: the record still shows the runs that were started.
    assert run.field(records.F_ATTEMPTS) == str(records.MAX_LOST_RUNS)


def test_a_cancel_flag_wins_over_everything(run: Any, redis_client: Any) -> None:
    redis_client.set(keys.cancel_flag(TASK_ID), "1")
    assert run.start() == scripts.START_CANCELLED
    assert run.field(records.F_STATE) == records.PENDING
    assert run.field(records.F_ATTEMPTS) == "0"
