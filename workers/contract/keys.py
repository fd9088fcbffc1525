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
