"""Which pool-process deaths count as lost runs (the main process decides; see
tests/e2e/test_worker_faults.py for a real worker). The requests here are fakes."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from billiard.exceptions import Terminated, WorkerLostError
from celery.worker import state as worker_state

from workers.tasking import _lost_unexpectedly


def fake_request(**flags: bool) -> object:
    return SimpleNamespace(**{"_already_cancelled": False, "_already_revoked": False, **flags})


def test_a_pool_process_that_died_by_itself_is_a_lost_run() -> None:
    died = WorkerLostError("Worker exited prematurely: signal 9 (SIGKILL) Job: 3.")
    assert _lost_unexpectedly(fake_request(), died)
    assert _lost_unexpectedly(fake_request(), SystemExit(1))


@pytest.mark.parametrize(
    "flags",
    [{"_already_cancelled": True}, {"_already_revoked": True}],
    ids=["cancelled on connection loss", "revoked with terminate"],
)
def test_a_process_the_worker_ended_itself_is_not(flags: dict[str, bool]) -> None:
    assert not _lost_unexpectedly(fake_request(**flags), WorkerLostError("signal 15"))


def test_a_cold_shutdown_is_not(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker_state, "should_terminate", True)
    assert not _lost_unexpectedly(fake_request(), WorkerLostError("signal 9"))


def test_a_task_error_is_not() -> None:
    assert not _lost_unexpectedly(fake_request(), ValueError("boom"))
    assert not _lost_unexpectedly(fake_request(), Terminated(15))
