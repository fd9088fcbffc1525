"""Typed settings and the Celery configuration DESIGN 5 requires."""

from __future__ import annotations

import pytest

from workers.config import WorkerSettings, celery_config, redis_url_with_password
from workers.contract.settings import CoreSettings, SettingsError


def test_rediss_without_certificate_checks_is_refused() -> None:
    with pytest.raises(SettingsError, match="verify certificates"):
        CoreSettings.from_env({"REDIS_URL": "rediss://cache:6379/0?ssl_cert_reqs=none"})


def test_rediss_gets_explicit_certificate_checks_for_the_broker() -> None:
    settings = CoreSettings.from_env({"REDIS_URL": "rediss://cache.example:6379/0"})
    assert settings.redis_url_checked == "rediss://cache.example:6379/0?ssl_cert_reqs=required"


def test_bad_values_name_the_problem() -> None:
    with pytest.raises(SettingsError, match="redis"):
        CoreSettings.from_env({"REDIS_URL": "http://x"})
    with pytest.raises(SettingsError):
        CoreSettings.from_env({"TASKPORT_RESULT_TTL_SECONDS": "soon"})


def test_password_is_folded_into_the_url_and_never_in_repr() -> None:
    settings = CoreSettings.from_env(
        {"REDIS_URL": "rediss://cache:6379/0", "REDIS_PASSWORD": "p@ss/word"}
    )
    assert "p@ss" not in repr(settings)
    url = redis_url_with_password(settings)
    assert url == "rediss://:p%40ss%2Fword@cache:6379/0?ssl_cert_reqs=required"


def test_celery_config_has_every_non_negotiable_setting() -> None:
    core = CoreSettings.from_env({"REDIS_URL": "redis://127.0.0.1:6379/0"})
    conf = celery_config(core, WorkerSettings(soft_shutdown_timeout=100))
    assert conf["accept_content"] == ["json"]
    assert conf["task_serializer"] == conf["result_serializer"] == "json"
    assert conf["task_acks_late"] is True
    assert conf["task_reject_on_worker_lost"] is True
    assert conf["worker_prefetch_multiplier"] == 1
    assert conf["task_track_started"] is True
    assert conf["result_expires"] == core.result_ttl_seconds
    vt = core.visibility_timeout_seconds
    assert conf["broker_transport_options"]["visibility_timeout"] == vt
    assert conf["result_backend_transport_options"]["visibility_timeout"] == vt
    assert conf["worker_soft_shutdown_timeout"] == 100
    assert [q.name for q in conf["task_queues"]] == ["default", "notifications", "processing"]
    assert conf["task_default_queue"] == "default"
    assert conf["task_routes"]["diagnostics.echo"] == {"queue": "default"}


def test_visibility_timeout_below_a_time_limit_is_refused() -> None:
    core = CoreSettings.from_env({"TASKPORT_VISIBILITY_TIMEOUT_SECONDS": "30"})
    with pytest.raises(SettingsError, match="VISIBILITY_TIMEOUT"):
        celery_config(core, WorkerSettings())
