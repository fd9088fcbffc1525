"""Every Redis key family taskport uses, with its lifetime. Nothing else builds key names.

| family                                   | type   | lifetime                          |
|------------------------------------------|--------|-----------------------------------|
| ``celery-task-meta-<id>``  (Celery's)     | string | result TTL (``result_expires``)   |
| ``taskport:task:<id>``                   | hash   | result TTL from submit            |
| ``taskport:idx:<tenant>``                | zset   | result TTL, trimmed by score      |
| ``taskport:idx:<tenant>:state:<STATE>``  | zset   | result TTL, trimmed by score      |
| ``taskport:idx:<tenant>:task:<name>``    | zset   | result TTL, trimmed by score      |
| ``taskport:cancel:<id>``                 | string | result TTL                        |
| ``taskport:idem:<tenant>:<key>``         | string | idempotency TTL (24 h)            |
| ``taskport:sched:<schedule>:<time>``     | string | schedule de-dup TTL               |
| ``taskport:sched-event:<event id>``      | string | schedule de-dup TTL               |
| ``taskport:stats:<bucket>``              | hash   | counters, see ops                 |
| ``taskport:ratelimit:<name>``            | hash   | idle refill time + 60 s           |
| ``taskport:retry-schedule``              | zset   | members removed when due (sweep)  |
| ``taskport:ledger:<id>:<effect>``        | string | result TTL                        |
| ``taskport:wh:attempts:<tenant>:<ep>``   | list   | capped, attempts TTL (7 d)        |
| ``taskport:wh:inflight:<ep>``            | zset   | leases expire with the deadline   |
| ``taskport:alerts``                      | list   | capped (ops alerts, newest first) |
| ``taskport:test:ses-faults``             | list   | tests only (TASKPORT_ENV=test)    |

Index zsets are scored by submit time in milliseconds; members older than the result TTL
are trimmed on every write, so no key grows without bound and no read needs ``SCAN``.
"""

from typing import Final

PREFIX: Final = "taskport:"
CELERY_META_PREFIX: Final = "celery-task-meta-"
INDEX_PREFIX: Final = f"{PREFIX}idx:"


def celery_meta(task_id: str) -> str:
    """Celery's result key for the Redis backend (JSON: status, result, traceback...)."""
    return f"{CELERY_META_PREFIX}{task_id}"


def task_record(task_id: str) -> str:
    return f"{PREFIX}task:{task_id}"


def tenant_index(tenant: str) -> str:
    return f"{INDEX_PREFIX}{tenant}"


def tenant_state_index(tenant: str, state: str) -> str:
    return f"{INDEX_PREFIX}{tenant}:state:{state}"


def tenant_task_index(tenant: str, task_name: str) -> str:
    return f"{INDEX_PREFIX}{tenant}:task:{task_name}"


def cancel_flag(task_id: str) -> str:
    return f"{PREFIX}cancel:{task_id}"


def idempotency(tenant: str, key: str) -> str:
    return f"{PREFIX}idem:{tenant}:{key}"


def schedule_fire(schedule: str, time: str) -> str:
    return f"{PREFIX}sched:{schedule}:{time}"


def schedule_event(event_id: str) -> str:
    return f"{PREFIX}sched-event:{event_id}"


# ---- notifications (issue 4) ----
RETRY_SCHEDULE: Final = f"{PREFIX}retry-schedule"
ALERTS: Final = f"{PREFIX}alerts"
ALERTS_KEPT: Final = 200
TEST_SES_FAULTS: Final = f"{PREFIX}test:ses-faults"
# SES's max send rate is per account: one bucket for every worker.
SES_RATE_BUCKET: Final = "ses"


def rate_limit_bucket(name: str) -> str:
    return f"{PREFIX}ratelimit:{name}"


def effect_ledger(task_id: str, effect: str) -> str:
    """A side effect done for a task (an email sent, a webhook delivered)."""
    return f"{PREFIX}ledger:{task_id}:{effect}"


def webhook_attempts(tenant: str, endpoint_id: str) -> str:
    return f"{PREFIX}wh:attempts:{tenant}:{endpoint_id}"


def webhook_inflight(endpoint_id: str) -> str:
    return f"{PREFIX}wh:inflight:{endpoint_id}"
