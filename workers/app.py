"""The Celery app: ``celery -A workers.app worker [-Q queue]``.

Configured from typed settings read from the environment, with queues, routes, time limits
and retry policies derived from the catalog. With no ``-Q``, a worker consumes every
catalog queue (and not Celery's default ``celery`` queue).
"""

from __future__ import annotations

from celery import Celery

from workers.config import WorkerSettings, celery_config
from workers.contract.settings import core_settings

app = Celery("taskport")
app.config_from_object(celery_config(core_settings(), WorkerSettings.from_env()))

# Task modules register themselves on import; signals keep task records current.
app.conf.include = [
    "workers.diagnostics.tasks",
    "workers.notifications.tasks",
    "workers.maintenance.tasks",
]
import workers.signals  # noqa: E402, F401 - registers signal handlers
