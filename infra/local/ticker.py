"""Local EventBridge: every catalog ``rate(...)`` schedule sent to the scheduler Lambda.

The event has the shape the CDK rule's input transformer produces: ``{"schedule", "time",
"event_id"}`` with EventBridge's ``time`` format. The first tick comes one period after
start, as with a new rule. ``TASKPORT_LOCAL_TICK_SECONDS`` replaces every period (tests use
a few seconds). Cron schedules are not ticked locally; ``taskport fire`` runs them by hand.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from infra.local.lambda_context import LocalLambdaContext
from workers.catalog import SCHEDULES, Schedule, TaskSpec

ENV_TICK_SECONDS: Final = "TASKPORT_LOCAL_TICK_SECONDS"
FUNCTION_NAME: Final = "taskport-scheduler"

LambdaHandler = Callable[[dict[str, Any], Any], Any]


def eventbridge_time(epoch: float) -> str:
    """``2026-11-24T18:00:00Z``: EventBridge's ``$.time`` (whole seconds, UTC)."""
    return datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def schedule_event(name: str, epoch: float) -> dict[str, str]:
    return {"schedule": name, "time": eventbridge_time(epoch), "event_id": str(uuid.uuid4())}


@dataclass(frozen=True)
class Tick:
    name: str
    period_seconds: float


def plan(
    schedules: Mapping[str, tuple[Schedule, TaskSpec]] = SCHEDULES,
    override_seconds: float | None = None,
) -> list[Tick]:
    ticks = []
    for name, (schedule, _spec) in schedules.items():
        period = schedule.period_seconds
        if period is None:
            continue
        ticks.append(Tick(name, override_seconds if override_seconds else float(period)))
    return ticks


def override_from_env() -> float | None:
    raw = os.environ.get(ENV_TICK_SECONDS)
    return float(raw) if raw else None


class Ticker:
    def __init__(self, handler: LambdaHandler, ticks: list[Tick]) -> None:
        self._handler = handler
        self._ticks = ticks
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for tick in self._ticks:
            thread = threading.Thread(target=self._run, args=(tick,), name=f"tick-{tick.name}")
            thread.daemon = True
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()

    def _run(self, tick: Tick) -> None:
        # Fixed-rate ticks (start + k * period) so a slow handler does not drift the schedule.
        start = time.monotonic()
        k = 1
        while not self._stop.wait(max(0.0, start + k * tick.period_seconds - time.monotonic())):
            self.fire(tick.name)
            k += 1

    def fire(self, name: str) -> Any:
        event = schedule_event(name, time.time())
        try:
            result = self._handler(event, LocalLambdaContext(function_name=FUNCTION_NAME))
        except Exception:
            print(f"[ticker] {name}: scheduler handler failed", file=sys.stderr, flush=True)
            traceback.print_exc()
            return None
        # One line per fire: tests count them, users see the schedule run.
        print(
            f"[ticker] fired {name} time={event['time']} event_id={event['event_id']} "
            f"result={json.dumps(result, default=str)}",
            file=sys.stderr,
            flush=True,
        )
        return result
