"""The base class every catalog task runs on, and the decorator that applies the catalog.

Tasks stay thin: validate kwargs against the catalog model, check the durable cancel flag
before running (so a cancel survives a restart of every worker: no reliance on revoke
lists held in worker memory), retry per the catalog's policy, report progress, and offer
``checkpoint()`` for long tasks to stop cooperatively.
"""

from __future__ import annotations

import importlib
import logging
import random
from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

from billiard.exceptions import WorkerLostError
from celery import Task
from celery.exceptions import Ignore
from celery.worker import state as worker_state
from celery.worker.request import Request
from pydantic import ValidationError

from workers import catalog, state_store
from workers.contract import headers, records

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


class TaskCancelled(Exception):
    """Raised by ``checkpoint()`` when the task was cancelled; ends the task as REVOKED."""


class InvalidArguments(ValueError):
    """The message's kwargs do not match the catalog model; never retried."""


class WorkerLostRepeatedly(RuntimeError):
    """The pool process died under this task too often (out of memory, killed): it fails
    instead of taking down another worker. Never retried."""


class MissingTenant(RuntimeError):
    """The task needs a tenant and the message has no ``tenant`` header."""


@cache
def _resolve(dotted: str) -> type[BaseException]:
    module, _, name = dotted.rpartition(".")
    found = getattr(importlib.import_module(module), name)
    if not (isinstance(found, type) and issubclass(found, BaseException)):
        raise TypeError(f"{dotted} is not an exception class")
    return found


def _lost_unexpectedly(request: Request, exc: BaseException) -> bool:
    """A pool process died under the task, and not because the worker ended it (a cancel
    on broker connection loss, a revoke with terminate, a cold shutdown)."""
    if getattr(request, "_already_cancelled", False) or getattr(request, "_already_revoked", False):
        return False
    if worker_state.should_terminate:
        return False
    return isinstance(exc, (WorkerLostError, SystemExit, KeyboardInterrupt))


class TaskportRequest(Request):
    """Counts runs lost with their pool process, in the worker's main process (the only
    place that sees why the process ended), before Celery requeues the message."""

    def on_failure(
        self, exc_info: Any, send_failed_event: bool = True, return_ok: bool = False
    ) -> Any:
        exc = getattr(exc_info.exception, "exc", exc_info.exception)  # ExceptionWithTraceback
        if self.task.reject_on_worker_lost and _lost_unexpectedly(self, exc):
            try:
                state_store.count_lost_run(self.id)
            except Exception:
                # Not counted: the message is still requeued, as Celery would.
                log.warning("could not count a lost run of %s", self.id, exc_info=True)
        return super().on_failure(exc_info, send_failed_event, return_ok)


class TaskportTask(Task):
    """Catalog-driven behaviour around a task's ``run``."""

    spec: catalog.TaskSpec
    abstract = True

    # Celery's worker builds each message's request from this class.
    Request = TaskportRequest

    @property
    def tenant(self) -> str | None:
        return getattr(self.request, headers.TENANT_HEADER, None)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        task_id = self.request.id
        # One round trip: the durable cancel flag and the lost runs are checked and, if
        # neither stops it, the record moves to STARTED (attempts + 1).
        started = state_store.start(task_id) if task_id else None
        if started == state_store.CANCELLED:
            self._end_revoked("cancelled before start")
        if started == state_store.LOST_TOO_OFTEN:
            raise WorkerLostRepeatedly(
                f"{self.name}: the worker process died during {records.MAX_LOST_RUNS} runs of"
                " this task (killed or out of memory); it is not run again"
            )
        if args:
            raise InvalidArguments(f"{self.name} takes keyword arguments only")
        try:
            validated = self.spec.args_model.model_validate(kwargs)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'args'}: {e['msg']}" for e in exc.errors()
            )
            raise InvalidArguments(f"invalid arguments for {self.name}: {problems}") from None
        if self.spec.requires_tenant and not self.tenant:
            raise MissingTenant(f"{self.name} needs a '{headers.TENANT_HEADER}' message header")
        try:
            return self.run(**validated.model_dump())
        except TaskCancelled:
            self._end_revoked("cancelled at checkpoint")
        except Exception as exc:
            self._maybe_retry(exc)
            raise

    def _maybe_retry(self, exc: Exception) -> None:
        policy = self.spec.retry
        retry_on = tuple(_resolve(name) for name in policy.retry_on)
        if not retry_on or not isinstance(exc, retry_on):
            return
        if self.request.retries >= policy.max_retries:
            return
        countdown = policy.delay_for(self.request.retries, random.random())  # noqa: S311
        raise self.retry(exc=exc, countdown=countdown, max_retries=policy.max_retries)

    def _end_revoked(self, reason: str) -> None:
        from celery.exceptions import TaskRevokedError

        self.backend.mark_as_revoked(self.request.id, reason, request=self.request)
        state_store.mark_finished(self.request.id, records.REVOKED)
        log.info("task %s %s", self.request.id, reason)
        raise Ignore(str(TaskRevokedError(reason)))

    def checkpoint(self) -> None:
        """Call between units of work: stops the task here if it was cancelled."""
        if self.request.id and state_store.is_cancelled(self.request.id):
            raise TaskCancelled(self.request.id)

    def progress(self, percent: float, message: str = "") -> None:
        """Report progress (visible in GET /v1/tasks/{id}) and honour a cancel."""
        percent = max(0.0, min(100.0, float(percent)))
        message = message[: records.MAX_PROGRESS_MESSAGE]
        self.update_state(state=records.PROGRESS, meta={"percent": percent, "message": message})
        state_store.set_state(
            self.request.id,
            records.PROGRESS,
            **{records.F_PROGRESS_PERCENT: percent, records.F_PROGRESS_MESSAGE: message},
        )
        self.checkpoint()


def catalog_task(app: Any, name: str, *, track_started: bool = True) -> Callable[[F], Any]:
    """Register ``fn`` as the catalog task ``name`` with its queue, limits and policy.

    ``track_started=False`` skips Celery's STARTED result write (two Redis writes per task)
    for short, high-volume tasks: the task record still shows STARTED, which is what
    ``GET /v1/tasks/{id}`` reads.
    """
    spec = catalog.TASKS[name]

    def register(fn: F) -> Any:
        return app.task(
            fn,
            name=name,
            bind=True,
            base=TaskportTask,
            spec=spec,
            queue=spec.queue,
            soft_time_limit=spec.soft_time_limit,
            time_limit=spec.time_limit,
            acks_late=True,
            reject_on_worker_lost=True,
            track_started=track_started,
            # Retries are decided in TaskportTask from the catalog's policy.
            max_retries=spec.retry.max_retries,
        )

    return register
