"""Celery configuration derived from the typed settings and the catalog (DESIGN 5)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field

from workers import catalog
from workers.contract import settings as contract
from workers.contract.settings import CoreSettings, SettingsError
from workers.result_backend import BACKENDS, backend_url


class WorkerSettings(BaseModel):
    """Worker-only settings on top of the shared ``CoreSettings``."""

    # Validation errors name the variable, never echo its value (REDIS_PASSWORD is one).
    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    # Soft phase of a SIGTERM (remapped to SIGQUIT): below Fargate's stopTimeout (120 s).
    soft_shutdown_timeout: float = Field(default=100.0, ge=0)
    # kombu's sweep that restores unacknowledged messages of dead workers.
    unacked_restore_interval: int = Field(default=10, ge=1)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WorkerSettings:
        mapping = {
            "soft_shutdown_timeout": contract.ENV_SOFT_SHUTDOWN_TIMEOUT,
            "unacked_restore_interval": contract.ENV_UNACKED_RESTORE_INTERVAL,
        }
        return contract.validated(cls, contract.env_values(mapping, environ), "worker")


def redis_url_with_password(core: CoreSettings) -> str:
    """The broker/backend URL with the injected password (ECS secrets) folded in.

    In AWS, ``REDIS_URL`` carries no password; workers get ``REDIS_PASSWORD`` from ECS
    ``secrets``. The result is never logged (Celery masks it in its banner).
    """
    url = core.redis_url_checked
    if core.redis_password is None:
        return url
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    user = parts.username or ""
    netloc = f"{quote(user)}:{quote(core.redis_password.get_secret_value(), safe='')}@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


def celery_config(core: CoreSettings, worker: WorkerSettings) -> dict[str, Any]:
    # Tests shorten the timeout (DESIGN 5) to see a killed worker's task come back within
    # seconds; they run only short tasks, so the rule is relaxed for TASKPORT_ENV=test only.
    # A task may wait out the longest countdown and then run for the longest time limit
    # before it is acknowledged: the timeout must outlast both, or it runs twice.
    needed = core.max_countdown_seconds + catalog.longest_time_limit()
    too_short = core.visibility_timeout_seconds <= needed
    if too_short and core.env != "test":
        raise SettingsError(
            f"{contract.ENV_VISIBILITY_TIMEOUT} ({core.visibility_timeout_seconds}s) must exceed"
            f" the longest countdown plus the longest task time limit ({needed:.0f}s)"
        )
    url = redis_url_with_password(core)
    transport = {
        # One visibility timeout wherever Celery/kombu read it (DESIGN 5).
        "visibility_timeout": core.visibility_timeout_seconds,
        "unacked_restore_interval": worker.unacked_restore_interval,
        "unacked_restore_throttle": 1,
        "socket_timeout": 30,
        "socket_connect_timeout": 5,
        "health_check_interval": 25,
        # A gevent worker acks and publishes from many greenlets at once; kombu's default
        # of 10 connections raised MaxConnectionsError and dropped the consumer (issue 4).
        "max_connections": 2 * max(q.concurrency for q in catalog.QUEUES.values()) + 10,
    }
    return {
        "broker_url": url,
        # Celery's Redis backend with an atomic one-round-trip store (workers/result_backend.py).
        "result_backend": backend_url(url),
        "override_backends": BACKENDS,
        "broker_transport_options": transport,
        "result_backend_transport_options": {
            "visibility_timeout": core.visibility_timeout_seconds,
            "socket_timeout": 30,
            "socket_connect_timeout": 5,
            "retry_policy": {"timeout": 10.0},
        },
        "broker_connection_retry_on_startup": True,
        # JSON only, in and out.
        "accept_content": ["json"],
        "result_accept_content": ["json"],
        "task_serializer": "json",
        "result_serializer": "json",
        # Work is acknowledged after it ran; a killed pool child puts it back.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "worker_deduplicate_successful_tasks": True,
        "task_track_started": True,
        "result_expires": core.result_ttl_seconds,
        # Celery keeps the backend per thread, and gevent makes every task's greenlet a
        # thread: each task built a new RedisBackend (metadata lookup, pool, connect), a
        # third of a webhook delivery's CPU. redis-py's pool is safe to share.
        "result_backend_thread_safe": True,
        # Queues and routes come from the catalog; no-`-Q` workers consume only these.
        "task_queues": _queues(),
        "task_default_queue": "default",
        "task_create_missing_queues": False,
        "task_routes": {name: {"queue": spec.queue} for name, spec in catalog.TASKS.items()},
        "worker_soft_shutdown_timeout": worker.soft_shutdown_timeout,
        "worker_enable_soft_shutdown_on_idle": False,
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        "worker_hijack_root_logger": False,
        "worker_send_task_events": False,
        "task_send_sent_event": False,
    }


def _queues() -> Any:
    from kombu import Queue

    return tuple(Queue(name, routing_key=name) for name in catalog.QUEUES)
