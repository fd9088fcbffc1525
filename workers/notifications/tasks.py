"""The notification tasks (thin: the flows do the work)."""

from __future__ import annotations

from typing import Any

from celery import signals

from workers.app import app
from workers.contract.notify_settings import notify_settings
from workers.notifications import email_flow, green_polling, webhook_flow
from workers.tasking import TaskportTask, catalog_task


@signals.worker_init.connect
def _check_settings(**_: Any) -> None:
    # A refused setting (loopback webhooks outside local/test) stops the worker at start.
    notify_settings()
    green_polling.install()


@catalog_task(app, "notifications.send_email")
def send_email(self: TaskportTask, **args: Any) -> dict[str, Any]:
    return email_flow.run(self, args)


@catalog_task(app, "notifications.send_webhook")
def send_webhook(
    self: TaskportTask, endpoint_id: str, event_type: str, payload: dict[str, Any]
) -> dict[str, Any]:
    return webhook_flow.run(self, endpoint_id, event_type, payload)
