"""Fire a catalog schedule: enqueue its task as tenant ``system``, exactly once per fire.

EventBridge may deliver an event more than once: deliveries de-duplicate on
(schedule, event time). Manual fires carry a fresh event id and de-duplicate on it.
The de-dup key is claimed in the same atomic script that enqueues.
"""

from __future__ import annotations

from dataclasses import dataclass

from functions.shared.enqueue import Enqueue, enqueue
from functions.shared.redis_client import producer_client
from workers import catalog
from workers.contract import keys
from workers.contract.headers import SYSTEM_TENANT
from workers.contract.settings import core_settings


class UnknownSchedule(LookupError):
    pass


@dataclass(frozen=True)
class Fired:
    schedule: str
    task: str
    task_id: str
    duplicate: bool


def fire(schedule_name: str, *, time: str, event_id: str, manual: bool = False) -> Fired:
    entry = catalog.SCHEDULES.get(schedule_name)
    if entry is None:
        raise UnknownSchedule(schedule_name)
    schedule, spec = entry
    dedup_key = keys.schedule_event(event_id) if manual else keys.schedule_fire(schedule_name, time)
    done = enqueue(
        producer_client(),
        Enqueue(
            spec=spec,
            kwargs=dict(schedule.args),
            tenant=SYSTEM_TENANT,
            dedup_key=dedup_key,
            dedup_ttl=core_settings().schedule_dedup_ttl_seconds,
            dedup_value={"schedule": schedule_name},
        ),
    )
    if done.previous is not None:
        return Fired(schedule_name, spec.name, str(done.previous["id"]), duplicate=True)
    return Fired(schedule_name, spec.name, done.task_id, duplicate=False)
