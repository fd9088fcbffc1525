"""The catalog is consistent and drives everything else."""

from __future__ import annotations

import pytest

from workers import catalog
from workers.contract.settings import CoreSettings


def test_every_task_names_an_area_and_a_catalog_queue() -> None:
    for name, spec in catalog.TASKS.items():
        area, _, verb = name.partition(".")
        assert area and verb, name
        assert spec.queue in catalog.QUEUES


@pytest.mark.parametrize(("schedule", "entry"), list(catalog.SCHEDULES.items()))
def test_schedule_args_validate_against_the_task_model(schedule: str, entry: tuple) -> None:
    sched, spec = entry
    spec.args_model.model_validate(dict(sched.args))
    assert sched.expression.startswith(("rate(", "cron("))


def test_heartbeat_canary_ships_in_the_catalog() -> None:
    sched, spec = catalog.SCHEDULES["diagnostics.heartbeat"]
    assert spec.name == "diagnostics.echo"
    assert dict(sched.args) == {"message": "heartbeat"}
    assert sched.period_seconds == 300


def test_default_visibility_timeout_exceeds_every_limit_and_countdown() -> None:
    settings = CoreSettings()
    assert settings.visibility_timeout_seconds > catalog.longest_time_limit()
    assert settings.max_countdown_seconds < settings.visibility_timeout_seconds


def test_retry_backoff_is_capped_and_jittered() -> None:
    policy = catalog.RetryPolicy(max_retries=9, backoff_seconds=2, backoff_max_seconds=600)
    assert policy.delay_for(0, 1.0) == 2
    assert policy.delay_for(3, 1.0) == 16
    assert policy.delay_for(20, 1.0) == 600
    assert policy.delay_for(3, 0.5) == 8
    assert catalog.RetryPolicy(jitter=False).delay_for(1, 0.0) == 4


def test_a_task_with_a_bad_queue_or_limits_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown queue"):
        catalog.TaskSpec(name="x.y", queue="nope", args_model=catalog.EchoArgs, description="")
    with pytest.raises(ValueError, match="soft_time_limit"):
        catalog.TaskSpec(
            name="x.y",
            queue="default",
            args_model=catalog.EchoArgs,
            description="",
            soft_time_limit=10,
            time_limit=5,
        )


def test_diagnostics_argument_bounds() -> None:
    with pytest.raises(ValueError):
        catalog.EchoArgs(message="x" * 10_001)
    with pytest.raises(ValueError):
        catalog.SleepArgs(seconds=61, steps=1)
    with pytest.raises(ValueError):
        catalog.SleepArgs(seconds=1, steps=101)
    assert catalog.FailArgs(message="m").retryable is False
