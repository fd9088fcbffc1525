"""Built-in tasks to smoke-test a deployment: echo, sleep (progress + cancel), fail."""

from __future__ import annotations

from typing import Any

from workers.app import app
from workers.diagnostics import operations
from workers.tasking import TaskportTask, catalog_task


@catalog_task(app, "diagnostics.echo")
def echo(self: TaskportTask, message: str) -> dict[str, Any]:
    return operations.echo(message)


@catalog_task(app, "diagnostics.sleep")
def sleep(self: TaskportTask, seconds: float, steps: int) -> dict[str, Any]:
    return operations.sleep_in_steps(seconds, steps, self.progress)


@catalog_task(app, "diagnostics.fail")
def fail(self: TaskportTask, message: str, retryable: bool) -> None:
    operations.fail(message, retryable)
