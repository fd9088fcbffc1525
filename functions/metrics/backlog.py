"""Count each queue's backlog the way kombu's Redis transport stores it.

kombu keeps one Redis list per queue and priority step: priority 0 is the bare queue name,
higher steps are ``<queue>\\x06\\x16<step>`` (``Channel.sep`` + ``priority_steps`` 3/6/9;
see ``Channel._q_for_pri``). Producers ``LPUSH`` and consumers ``RPOP``, so the oldest
message is at index -1. A message a worker has taken but not acknowledged sits in the
``unacked`` hash as JSON ``[message, exchange, routing_key]`` (``QoS.append``); with
taskport's routing the routing key is the queue name.

Reads only: a pipeline of LLEN/LINDEX per list plus an HSCAN of ``unacked``, whose size is
bounded by the number of reserved tasks (workers x concurrency x prefetch).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

from workers.contract.headers import ENQUEUED_AT_HEADER

# kombu.transport.redis: Channel.sep, PRIORITY_STEPS and Channel.unacked_key defaults.
KOMBU_PRIORITY_SEP: Final = "\x06\x16"
KOMBU_PRIORITY_STEPS: Final = (0, 3, 6, 9)
KOMBU_UNACKED_KEY: Final = "unacked"
_SCAN_BATCH: Final = 500


class RedisReader(Protocol):
    """The redis-py calls this module makes (a real client in production and tests)."""

    def pipeline(self, transaction: bool = ...) -> Any: ...

    def hscan_iter(self, name: str, match: Any = ..., count: int | None = ...) -> Any: ...


@dataclass(frozen=True, kw_only=True)
class QueueBacklog:
    queue: str
    waiting: int
    in_flight: int
    # Seconds since the oldest waiting message was enqueued; 0 when nothing waits or when
    # no waiting message carries the enqueued-at header (other Celery clients).
    oldest_waiting_age: float

    @property
    def backlog(self) -> int:
        return self.waiting + self.in_flight


def priority_lists(queue: str) -> tuple[str, ...]:
    """Every Redis list kombu may hold ``queue``'s messages in, priority 0 first."""
    return tuple(
        queue if step == 0 else f"{queue}{KOMBU_PRIORITY_SEP}{step}"
        for step in KOMBU_PRIORITY_STEPS
    )


def enqueued_at(raw: bytes | str | None) -> float | None:
    """The enqueued-at header of a stored message, None if absent or unreadable."""
    if raw is None:
        return None
    try:
        value = json.loads(raw)["headers"][ENQUEUED_AT_HEADER]
        return float(value)
    except (ValueError, KeyError, TypeError):
        return None


def routing_key_of_unacked(raw: bytes | str) -> str | None:
    """The routing key of an ``unacked`` hash value (``[message, exchange, routing_key]``)."""
    try:
        entry = json.loads(raw)
        routing_key = entry[2]
    except (ValueError, IndexError, KeyError, TypeError):
        return None
    return routing_key if isinstance(routing_key, str) else None


def count_in_flight(client: RedisReader, queues: Iterable[str]) -> dict[str, int]:
    """Unacknowledged messages per queue, with an explicit 0 for every queue."""
    counts = dict.fromkeys(queues, 0)
    for _tag, raw in client.hscan_iter(KOMBU_UNACKED_KEY, count=_SCAN_BATCH):
        routing_key = routing_key_of_unacked(raw)
        if routing_key in counts:
            counts[routing_key] += 1
    return counts


def measure(client: RedisReader, queues: Iterable[str], *, now: float) -> dict[str, QueueBacklog]:
    """Waiting, in-flight and oldest-waiting age of every queue (zeros included)."""
    names = list(queues)
    pipe = client.pipeline(transaction=False)
    for queue in names:
        for key in priority_lists(queue):
            pipe.llen(key)
            pipe.lindex(key, -1)
    replies = pipe.execute()
    in_flight = count_in_flight(client, names)

    per_list = 2 * len(KOMBU_PRIORITY_STEPS)
    result: dict[str, QueueBacklog] = {}
    for index, queue in enumerate(names):
        chunk = replies[index * per_list : (index + 1) * per_list]
        lengths = chunk[0::2]
        oldest = [t for t in (enqueued_at(raw) for raw in chunk[1::2]) if t is not None]
        age = max(0.0, now - min(oldest)) if oldest else 0.0
        result[queue] = QueueBacklog(
            queue=queue,
            waiting=sum(int(n) for n in lengths),
            in_flight=in_flight[queue],
            oldest_waiting_age=round(age, 3),
        )
    return result


def as_payload(backlogs: Mapping[str, QueueBacklog]) -> dict[str, dict[str, float]]:
    """A JSON-friendly summary (the handler's return value and log line)."""
    return {
        name: {
            "waiting": b.waiting,
            "in_flight": b.in_flight,
            "backlog": b.backlog,
            "oldest_waiting_age": b.oldest_waiting_age,
        }
        for name, b in backlogs.items()
    }
