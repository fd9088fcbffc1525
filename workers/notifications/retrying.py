"""Retry decisions of the notification tasks: a short countdown or the retry schedule.

Celery's own retry counter also counts re-enqueues that are not attempts (rate limit, a
busy endpoint), so the real attempt number and the first attempt's time travel in headers
of their own. Every retry carries the tenant header explicitly.
"""

from __future__ import annotations

import time
from typing import Any, NoReturn

from celery.exceptions import Retry

from workers.contract.headers import TENANT_HEADER
from workers.contract.notify_settings import notify_settings
from workers.maintenance import retry_schedule
from workers.state_store import state_client

ATTEMPT_HEADER = "taskport_attempt"
FIRST_ATTEMPT_HEADER = "taskport_first_attempt"


def attempt(task: Any) -> int:
    """Attempts made before this one (0 on the first run)."""
    return int(getattr(task.request, ATTEMPT_HEADER, None) or 0)


def first_attempt_at(task: Any) -> float:
    return float(getattr(task.request, FIRST_ATTEMPT_HEADER, None) or time.time())


def again(task: Any, *, delay: float, counts_as_attempt: bool, reason: str) -> NoReturn:
    """Run the task again after ``delay`` seconds, with the same id and headers."""
    headers: dict[str, Any] = {
        TENANT_HEADER: task.tenant,
        ATTEMPT_HEADER: attempt(task) + (1 if counts_as_attempt else 0),
        FIRST_ATTEMPT_HEADER: first_attempt_at(task),
    }
    delay = max(0.0, delay)
    if delay <= notify_settings().short_retry_max_seconds:
        raise task.retry(
            countdown=delay, max_retries=task.request.retries + 1, headers=headers, exc=None
        )
    retry_schedule.defer(
        state_client(),
        task_name=task.name,
        task_id=task.request.id,
        queue=task.spec.queue,
        kwargs=task.request.kwargs,
        headers=headers,
        retries=task.request.retries + 1,
        due_at=time.time() + delay,
    )
    raise Retry(f"{reason}; retry scheduled in {delay:.0f}s", when=delay)
