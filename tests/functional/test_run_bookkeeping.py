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
    start_scripts = {
        False: redis_client.register_script(scripts.START),
        True: redis_client.register_script(scripts.START_GREEN),
    }
    count_lost = redis_client.register_script(scripts.COUNT_LOST_RUN)
    redis_client.hset(
        RECORD,
        mapping={records.F_TENANT: "t", records.F_STATE: records.PENDING, records.F_ATTEMPTS: 0},
    )

    class Run:
        def start(self, green: bool = False) -> Any:
            argv = [TASK_ID, records.STARTED, keys.INDEX_PREFIX]
            argv += [records.F_STARTED, time.time(), records.F_ATTEMPTS, 1]
            script = start_scripts[green]
            return script(keys=[RECORD, keys.cancel_flag(TASK_ID)], args=argv)

        def set_state(self, state: str) -> None:
            redis_client.hset(RECORD, records.F_STATE, state)

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


def test_under_a_green_pool_a_start_on_an_unfinished_run_counts_it_as_lost(run: Any) -> None:
    # The whole gevent worker died under runs 1..MAX (PROGRESS or STARTED when it died);
    # each redelivery's start counts the run before it, and the one after MAX is refused.
    assert run.start(green=True) == records.PENDING
    for count in range(1, records.MAX_LOST_RUNS):
        run.set_state(records.PROGRESS if count % 2 else records.STARTED)
        assert run.start(green=True) != scripts.START_LOST_TOO_OFTEN
        assert run.field(records.F_LOST_RUNS) == str(count)
    assert run.start(green=True) == scripts.START_LOST_TOO_OFTEN
    assert run.field(records.F_LOST_RUNS) == str(records.MAX_LOST_RUNS)
    assert run.field(records.F_ATTEMPTS) == str(records.MAX_LOST_RUNS)


def test_under_a_green_pool_retries_and_finished_runs_are_not_lost(run: Any) -> None:
    assert run.start(green=True) == records.PENDING
    for _ in range(records.MAX_LOST_RUNS + 1):
        run.set_state(records.RETRY)  # the run ended by asking for a retry
        assert run.start(green=True) == records.RETRY
    assert run.field(records.F_LOST_RUNS) is None
    # A redelivered message of a finished task (its ack was lost) counts nothing either.
    run.set_state(records.SUCCESS)
    assert run.start(green=True) == records.SUCCESS
    assert run.field(records.F_LOST_RUNS) is None


def test_under_prefork_an_unfinished_run_is_left_to_the_main_process(run: Any) -> None:
    # The main process counted it (COUNT_LOST_RUN) and requeued the task at once.
    run.start()
    assert run.start() == records.STARTED
    assert run.field(records.F_LOST_RUNS) is None
