"""The single source of truth for every task taskport runs.

The API validates submissions against it and serves it at ``GET /v1/catalog``; the Celery
app derives queues, routes, time limits and retry policies from it; CDK builds one Fargate
service per queue and one EventBridge rule per schedule from it; local mode ticks the same
schedules. It must import without celery, boto3 or httpx (Lambdas bundle it), so error
classes are named as dotted paths and resolved by the worker.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from workers.contract import scopes, ses_tags
from workers.contract.email_address import EmailAddress
from workers.contract.lazy_model import LazyModel

Pool = Literal["prefork", "gevent", "solo"]


@dataclass(frozen=True, kw_only=True)
class QueueSpec:
    """One Celery queue; CDK runs one Fargate service per queue."""

    name: str
    description: str
    # prefork enforces soft and hard time limits (DESIGN 5); threads would not.
    pool: Pool = "prefork"
    concurrency: int = 2
    # Autoscaling bounds for the Fargate service of this queue.
    min_workers: int = 0
    max_workers: int = 4

    @property
    def remap_sigterm(self) -> bool:
        """Whether SIGTERM becomes Celery's bounded soft-then-cold shutdown (DESIGN 5).

        Not under gevent: Celery's soft shutdown raises ``BlockingSwitchOutError`` there; a
        plain warm shutdown is bounded by every task's own deadline and hard time limit.
        """
        return self.pool != "gevent"


QUEUES: Mapping[str, QueueSpec] = MappingProxyType(
    {
        q.name: q
        for q in (
            QueueSpec(
                name="default",
                description="diagnostics, health checks, alerting, maintenance",
                min_workers=1,
            ),
            QueueSpec(
                name="notifications",
                description="SES email and signed webhooks (I/O bound)",
                # I/O bound: gevent enforces the hard time limits, and every delivery has
                # its own deadline in code (DESIGN 5); 50 slots per worker process.
                pool="gevent",
                concurrency=50,
            ),
            QueueSpec(
                name="processing",
                description="CSV import and other long, cancellable work",
                concurrency=2,
            ),
        )
    }
)


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How a task is retried. ``retry_on`` names exception classes by dotted path."""

    max_retries: int = 0
    backoff_seconds: float = 2.0  # first delay; doubles per attempt
    backoff_max_seconds: float = 600.0
    jitter: bool = True
    retry_on: tuple[str, ...] = ()

    def delay_for(self, attempt: int, rand: float = 1.0) -> float:
        """Delay before retry number ``attempt`` (0-based); ``rand`` in [0, 1] for jitter."""
        base = min(self.backoff_max_seconds, self.backoff_seconds * (2**attempt))
        return base * rand if self.jitter else base


_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True, kw_only=True)
class Schedule:
    """A periodic enqueue, in EventBridge expression syntax (``rate(...)`` or ``cron(...)``)."""

    name: str
    expression: str
    args: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""

    @property
    def period_seconds(self) -> int | None:
        """The period of a ``rate(...)`` expression; None for cron."""
        match = _RATE.match(self.expression)
        if not match:
            return None
        return int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]


@dataclass(frozen=True, kw_only=True)
class TaskSpec:
    name: str
    queue: str
    args_model: type[BaseModel]
    description: str
    # Scope a client needs to submit it through the API; None: not submittable by clients.
    scope: str | None = scopes.TASKS_WRITE
    soft_time_limit: float = 60.0
    time_limit: float = 90.0
    retry: RetryPolicy = RetryPolicy()
    schedules: tuple[Schedule, ...] = ()
    # Tasks that act on a tenant's data fail clearly when the message has no tenant header.
    requires_tenant: bool = False

    def __post_init__(self) -> None:
        if self.queue not in QUEUES:
            raise ValueError(f"{self.name}: unknown queue {self.queue!r}")
        if not self.soft_time_limit < self.time_limit:
            raise ValueError(f"{self.name}: soft_time_limit must be below time_limit")


class _Args(LazyModel):
    # Unknown kwargs are a client mistake, not something to drop silently. Schemas are
    # built on first use, not when the catalog is imported (the API Lambda's cold start).
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---- diagnostics: built-in tasks users can smoke-test a deployment with ----


class EchoArgs(_Args):
    message: str = Field(max_length=10_000, description="Returned unchanged.")


class SleepArgs(_Args):
    seconds: float = Field(ge=0, le=60, description="Total time to sleep.")
    steps: int = Field(
        default=10, ge=1, le=100, description="Progress reports (and cancel checks)."
    )


class FailArgs(_Args):
    message: str = Field(max_length=1_000, description="Message of the raised error.")
    retryable: bool = Field(default=False, description="Raise an error the retry policy retries.")


_TASKS: tuple[TaskSpec, ...] = (
    TaskSpec(
        name="diagnostics.echo",
        queue="default",
        args_model=EchoArgs,
        description="Return the message: proves API -> Redis -> worker -> result.",
        soft_time_limit=10,
        time_limit=20,
        schedules=(
            Schedule(
                name="diagnostics.heartbeat",
                expression="rate(5 minutes)",
                args={"message": "heartbeat"},
                description="Canary that proves the scheduler path in every deployment.",
            ),
        ),
    ),
    TaskSpec(
        name="diagnostics.sleep",
        queue="default",
        args_model=SleepArgs,
        description="Sleep in steps, reporting progress and honouring cancel between steps.",
        soft_time_limit=75,
        time_limit=90,
    ),
    TaskSpec(
        name="diagnostics.fail",
        queue="default",
        args_model=FailArgs,
        description="Raise an error (retried when retryable) to see error reporting and retries.",
        soft_time_limit=10,
        time_limit=20,
        retry=RetryPolicy(
            max_retries=2,
            backoff_seconds=0.5,
            backoff_max_seconds=5,
            jitter=True,
            retry_on=("workers.diagnostics.errors.RetryableDiagnosticError",),
        ),
    ),
)


# ---- notifications + maintenance (issue 4) -------------------------------------------
# Email and webhooks on the notifications queue; the retry-schedule sweep on default.

MAX_EMAIL_RECIPIENTS = 50  # SES counts to + cc + bcc against this


class SendEmailArgs(_Args):
    to: list[EmailAddress] = Field(min_length=1, max_length=MAX_EMAIL_RECIPIENTS)
    cc: list[EmailAddress] = Field(default_factory=list, max_length=MAX_EMAIL_RECIPIENTS)
    bcc: list[EmailAddress] = Field(default_factory=list, max_length=MAX_EMAIL_RECIPIENTS)
    subject: str = Field(min_length=1, max_length=998, pattern=r"^[^\r\n]*$")
    text: str | None = Field(default=None, max_length=200_000)
    html: str | None = Field(default=None, max_length=200_000)
    reply_to: list[EmailAddress] = Field(default_factory=list, max_length=10)
    tags: dict[
        Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,256}$")],
        Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,256}$")],
    ] = Field(default_factory=dict, max_length=10, description="SES message tags")

    @model_validator(mode="after")
    def _check(self) -> SendEmailArgs:
        if len(self.to) + len(self.cc) + len(self.bcc) > MAX_EMAIL_RECIPIENTS:
            raise ValueError(f"at most {MAX_EMAIL_RECIPIENTS} recipients in to + cc + bcc")
        if not (self.text or self.html):
            raise ValueError("text or html is required")
        reserved = [name for name in self.tags if ses_tags.is_reserved(name)]
        if reserved:
            raise ValueError(f"reserved tag names: {', '.join(sorted(reserved))}")
        return self


class SendWebhookArgs(_Args):
    endpoint_id: str = Field(pattern=r"^ep_[0-9a-f]{24}$", description="A registered endpoint")
    event_type: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,100}$")
    payload: dict[str, Any] = Field(description="The JSON object delivered as the body")


class SweepRetriesArgs(_Args):
    limit: int = Field(default=1000, ge=1, le=10_000, description="Due entries moved per run")


_TASKS += (
    TaskSpec(
        name="notifications.send_email",
        queue="notifications",
        args_model=SendEmailArgs,
        description="Send an email with SES (suppressed recipients dropped, global rate).",
        soft_time_limit=30,
        time_limit=45,
        requires_tenant=True,
        retry=RetryPolicy(
            max_retries=8,
            backoff_seconds=2.0,
            backoff_max_seconds=600.0,
            retry_on=("workers.notifications.errors.TransientEmailError",),
        ),
    ),
    TaskSpec(
        name="notifications.send_webhook",
        queue="notifications",
        args_model=SendWebhookArgs,
        description="Deliver a Standard-Webhooks-signed event to a registered endpoint.",
        scope=scopes.WEBHOOKS_WRITE,
        # 15 s delivery deadline enforced in code; the hard limit backs it (gevent pool).
        soft_time_limit=30,
        time_limit=45,
        requires_tenant=True,
    ),
    TaskSpec(
        name="maintenance.sweep_retries",
        queue="default",
        args_model=SweepRetriesArgs,
        description="Re-enqueue due entries of the retry schedule (long retries).",
        scope=None,
        soft_time_limit=30,
        time_limit=60,
        schedules=(
            Schedule(
                name="maintenance.retry-sweep",
                expression="rate(1 minute)",
                description="Moves due retries from the Redis sorted set back to their queue.",
            ),
        ),
    ),
)

# ---- end notifications + maintenance ----------------------------------------------------

TASKS: Mapping[str, TaskSpec] = MappingProxyType({t.name: t for t in _TASKS})

SCHEDULES: Mapping[str, tuple[Schedule, TaskSpec]] = MappingProxyType(
    {s.name: (s, t) for t in _TASKS for s in t.schedules}
)


def submittable() -> list[TaskSpec]:
    """Tasks clients may submit through the API, in catalog order."""
    return [t for t in TASKS.values() if t.scope is not None]


def longest_time_limit() -> float:
    """The visibility timeout must exceed this (DESIGN 5)."""
    return max(t.time_limit for t in TASKS.values())
