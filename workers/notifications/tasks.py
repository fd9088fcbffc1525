"""The notification tasks (thin: the flows do the work)."""

from __future__ import annotations

import logging
from typing import Any

from celery import signals

from workers.app import app
from workers.contract.notify_settings import notify_settings
from workers.contract.settings import SettingsError
from workers.notifications import email_flow, green_polling, webhook_flow
from workers.tasking import TaskportTask, catalog_task

log = logging.getLogger(__name__)


@signals.worker_init.connect
def _check_settings(**_: Any) -> None:
    # A refused setting (loopback webhooks outside local/test) stops the worker at start.
    # Celery logs and swallows exceptions from signal receivers: SystemExit is not.
    try:
        notify_settings()
    except SettingsError as exc:
        log.critical("%s", exc)
        raise SystemExit(f"taskport: {exc}") from None
    green_polling.install()


@catalog_task(app, "notifications.send_email")
def send_email(self: TaskportTask, **args: Any) -> dict[str, Any]:
    return email_flow.run(self, args)


@catalog_task(app, "notifications.send_webhook", track_started=False)
def send_webhook(
    self: TaskportTask, endpoint_id: str, event_type: str, payload: dict[str, Any]
) -> dict[str, Any]:
    return webhook_flow.run(self, endpoint_id, event_type, payload)
