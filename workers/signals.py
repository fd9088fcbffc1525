"""Worker signals keep the task record (state, times) and indexes current.

A run's start (STARTED, attempts + 1) is written by ``TaskportTask.__call__`` in the same
round trip as its cancel-flag check; these handlers record how runs end.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import signals

from workers import state_store
from workers.contract import records

log = logging.getLogger(__name__)

# States that end a task as far as its record is concerned (Ignore'd tasks set their own).
_POSTRUN_STATES = {records.SUCCESS, records.FAILURE, records.RETRY}


def _safe(update: Any, *args: Any) -> None:
    # Bookkeeping must never fail the task itself; Celery's own result is the fallback.
    try:
        update(*args)
    except Exception:
        log.warning("task record update failed", exc_info=True)


@signals.task_postrun.connect
def _on_postrun(task_id: str | None = None, state: str | None = None, **_: Any) -> None:
    if not task_id or state not in _POSTRUN_STATES:
        return
    if state == records.RETRY:
        _safe(state_store.set_state, task_id, records.RETRY)
    else:
        _safe(state_store.mark_finished, task_id, state)


@signals.task_failure.connect
def _on_failure(task_id: str | None = None, **_: Any) -> None:
    # Also sent from the main process when a hard time limit kills the pool child.
    if task_id:
        _safe(state_store.mark_finished, task_id, records.FAILURE)


@signals.task_revoked.connect
def _on_revoked(request: Any = None, **_: Any) -> None:
    task_id = getattr(request, "id", None)
    if task_id:
        _safe(state_store.mark_finished, task_id, records.REVOKED)
