"""Plain functions behind the diagnostics tasks (no Celery here)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from workers.diagnostics.errors import DiagnosticError, RetryableDiagnosticError


def echo(message: str) -> dict[str, Any]:
    return {"message": message}


def sleep_in_steps(
    seconds: float,
    steps: int,
    report: Callable[[float, str], None],
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Sleep ``seconds`` in ``steps`` slices, calling ``report`` after each.

    ``report`` is where a cancel stops the work (it raises), between steps.
    """
    for step in range(1, steps + 1):
        sleep(seconds / steps)
        report(100.0 * step / steps, f"step {step} of {steps}")
    return {"slept": seconds, "steps": steps}


def fail(message: str, retryable: bool) -> None:
    if retryable:
        raise RetryableDiagnosticError(message)
    raise DiagnosticError(message)
