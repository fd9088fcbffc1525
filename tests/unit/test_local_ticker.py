"""The local schedule ticker: which schedules tick, at what period, in what event shape."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime
from typing import Any

from infra.local import ticker
from workers.catalog import SCHEDULES, Schedule, TaskSpec


def test_plan_ticks_every_rate_schedule_of_the_catalog_at_its_period() -> None:
    planned = {t.name: t.period_seconds for t in ticker.plan()}
    expected = {
        name: float(s.period_seconds)
        for name, (s, _) in SCHEDULES.items()
        if s.period_seconds is not None
    }
    assert planned == expected
    assert planned  # the catalog has at least the heartbeat


def test_plan_override_and_cron_skipped() -> None:
    spec = next(iter(SCHEDULES.values()))[1]
    schedules: dict[str, tuple[Schedule, TaskSpec]] = {
        "a": (Schedule(name="a", expression="rate(1 hour)"), spec),
        "b": (Schedule(name="b", expression="cron(0 3 * * ? *)"), spec),
    }
    assert ticker.plan(schedules) == [ticker.Tick("a", 3600.0)]
    assert ticker.plan(schedules, override_seconds=2) == [ticker.Tick("a", 2.0)]


def test_event_has_the_input_transformer_shape() -> None:
    epoch = datetime(2026, 11, 24, 18, 0, 0, 700_000, tzinfo=UTC).timestamp()
    event = ticker.schedule_event("diagnostics.heartbeat", epoch)
    assert set(event) == {"schedule", "time", "event_id"}
    assert event["schedule"] == "diagnostics.heartbeat"
    assert event["time"] == "2026-11-24T18:00:00Z"
    assert re.fullmatch(r"[0-9a-f-]{36}", event["event_id"])
    assert ticker.schedule_event("x", epoch)["event_id"] != event["event_id"]


def test_ticker_sends_each_schedule_to_the_handler_repeatedly() -> None:
    received: list[dict[str, Any]] = []
    enough = threading.Event()

    def fake_scheduler(event: dict[str, Any], context: Any) -> dict[str, str]:
        received.append(event)
        if len(received) >= 3:
            enough.set()
        return {"status": "enqueued"}

    running = ticker.Ticker(fake_scheduler, [ticker.Tick("diagnostics.heartbeat", 0.02)])
    running.start()
    try:
        assert enough.wait(10)
    finally:
        running.stop()
    assert {e["schedule"] for e in received} == {"diagnostics.heartbeat"}
    assert len({e["event_id"] for e in received}) == len(received)


def test_a_failing_handler_does_not_stop_the_ticker() -> None:
    calls = []
    enough = threading.Event()

    def flaky(event: dict[str, Any], context: Any) -> None:
        calls.append(event)
        if len(calls) >= 2:
            enough.set()
        raise ConnectionError("redis down")

    running = ticker.Ticker(flaky, [ticker.Tick("s", 0.02)])
    running.start()
    try:
        assert enough.wait(10)
    finally:
        running.stop()
