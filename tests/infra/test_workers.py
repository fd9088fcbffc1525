"""Fargate workers: one service per catalog queue, shutdown contract, hardening, scaling."""

from __future__ import annotations

import math
from typing import Any

import pytest
from aws_cdk.assertions import Match

from functions.metrics import names as metric_names
from infra.worker_services import SOFT_SHUTDOWN_SECONDS, STOP_TIMEOUT_SECONDS
from tests.infra.conftest import Synthesized
from workers.catalog import QUEUES
from workers.contract import settings as env


def _container(synthesized: Synthesized, queue: str) -> dict[str, Any]:
    service = synthesized.stack.parts.workers.services[queue]
    task_definition = synthesized.json["Resources"][synthesized.logical_id(service.task_definition)]
    (container,) = task_definition["Properties"]["ContainerDefinitions"]
    return dict(container)


def _env(container: dict[str, Any]) -> dict[str, Any]:
    return {item["Name"]: item["Value"] for item in container["Environment"]}


def test_one_service_per_catalog_queue(synthesized: Synthesized) -> None:
    synthesized.template.resource_count_is("AWS::ECS::Service", len(QUEUES))
    synthesized.template.resource_count_is("AWS::ECS::TaskDefinition", len(QUEUES))
    assert set(synthesized.stack.parts.workers.services) == set(QUEUES)


@pytest.mark.parametrize("queue", sorted(QUEUES))
def test_worker_command_follows_the_catalog(synthesized: Synthesized, queue: str) -> None:
    spec = QUEUES[queue]
    command = _container(synthesized, queue)["Command"]
    assert command[:4] == ["celery", "-A", "workers.app", "worker"]
    assert command[command.index("-Q") + 1] == queue
    assert command[command.index("--pool") + 1] == spec.pool
    assert command[command.index("-c") + 1] == str(spec.concurrency)
    for flag in ("--without-gossip", "--without-mingle", "--without-heartbeat"):
        assert flag in command


@pytest.mark.parametrize("queue", sorted(QUEUES))
def test_shutdown_contract(synthesized: Synthesized, queue: str) -> None:
    container = _container(synthesized, queue)
    variables = _env(container)
    assert container["StopTimeout"] == 120 == STOP_TIMEOUT_SECONDS
    spec = QUEUES[queue]
    if spec.remap_sigterm:  # prefork: SIGTERM -> bounded soft phase, then cold shutdown
        assert variables[env.ENV_REMAP_SIGTERM] == "SIGQUIT"
    else:  # gevent: Celery's soft shutdown breaks under gevent; warm shutdown is bounded
        assert env.ENV_REMAP_SIGTERM not in variables
        assert spec.pool == "gevent"
    soft = int(variables[env.ENV_SOFT_SHUTDOWN_TIMEOUT])
    assert soft == SOFT_SHUTDOWN_SECONDS
    assert 60 <= soft < container["StopTimeout"]


@pytest.mark.parametrize("queue", sorted(QUEUES))
def test_container_hardening(synthesized: Synthesized, queue: str) -> None:
    container = _container(synthesized, queue)
    assert container["ReadonlyRootFilesystem"] is True
    assert container["User"] not in ("0", "root", "")
    assert {"ContainerPath": "/tmp", "SourceVolume": "tmp", "ReadOnly": False} in container[
        "MountPoints"
    ]
    assert container["HealthCheck"]["Command"][0] == "CMD-SHELL"
    assert container["LogConfiguration"]["LogDriver"] == "awslogs"
    secrets = {s["Name"]: s["ValueFrom"] for s in container["Secrets"]}
    secret_id = synthesized.logical_id(synthesized.stack.parts.cache.auth_secret)
    assert secrets[env.ENV_REDIS_PASSWORD] == {"Ref": secret_id}
    variables = _env(container)
    assert env.ENV_REDIS_PASSWORD not in variables
    for name in (
        env.ENV_REDIS_URL,
        env.ENV_TABLE,
        env.ENV_VISIBILITY_TIMEOUT,
        env.ENV_SES_CONFIGURATION_SET,
    ):
        assert name in variables


def test_arm64_task_definitions_and_rolling_back_deployments(synthesized: Synthesized) -> None:
    synthesized.template.all_resources_properties(
        "AWS::ECS::TaskDefinition",
        {"RuntimePlatform": {"CpuArchitecture": "ARM64", "OperatingSystemFamily": "LINUX"}},
    )
    synthesized.template.all_resources_properties(
        "AWS::ECS::Service",
        {
            "DeploymentConfiguration": Match.object_like(
                {"DeploymentCircuitBreaker": {"Enable": True, "Rollback": True}}
            ),
            "LaunchType": "FARGATE",
        },
    )
    synthesized.template.has_resource_properties(
        "AWS::ECS::Cluster",
        {
            "ClusterSettings": [
                {"Name": "containerInsights", "Value": Match.string_like_regexp("enabled|enhanced")}
            ]
        },
    )


def test_worker_image_is_an_arm64_asset(synthesized: Synthesized) -> None:
    import json

    assets = json.loads(
        (synthesized.outdir / f"{synthesized.stack.artifact_id}.assets.json").read_text()
    )
    (image,) = assets["dockerImages"].values()
    assert image["source"]["platform"] == "linux/arm64"


def _scaling(
    synthesized: Synthesized, queue: str
) -> tuple[dict[str, Any], list[tuple[dict, dict]]]:
    """The queue's scalable target and its (policy, alarm) pairs, found by references."""
    resources = synthesized.json["Resources"]
    service_id = synthesized.logical_id(synthesized.stack.parts.workers.services[queue])
    targets = {
        k: v
        for k, v in synthesized.resources("AWS::ApplicationAutoScaling::ScalableTarget").items()
        if service_id in str(v["Properties"]["ResourceId"])
    }
    ((target_id, target),) = targets.items()
    pairs = []
    for policy_id, policy in synthesized.resources(
        "AWS::ApplicationAutoScaling::ScalingPolicy"
    ).items():
        if policy["Properties"].get("ScalingTargetId") != {"Ref": target_id}:
            continue
        (alarm,) = [
            a
            for a in resources.values()
            if {"Ref": policy_id} in a["Properties"].get("AlarmActions", [])
        ]
        pairs.append((policy, alarm))
    return target, pairs


def _desired(pairs: list[tuple[dict, dict]], backlog: int) -> int | None:
    """What application auto scaling sets for a backlog sample (None: no alarm fires)."""
    for policy, alarm in pairs:
        props, threshold = alarm["Properties"], alarm["Properties"]["Threshold"]
        operator = props["ComparisonOperator"]
        fires = (
            backlog >= threshold
            if operator.startswith("GreaterThanOrEqual")
            else backlog <= threshold
        )
        if not fires:
            continue
        config = policy["Properties"]["StepScalingPolicyConfiguration"]
        assert config["AdjustmentType"] == "ExactCapacity"
        offset = backlog - threshold
        for step in config["StepAdjustments"]:
            lower = step.get("MetricIntervalLowerBound", -math.inf)
            upper = step.get("MetricIntervalUpperBound", math.inf)
            if lower <= offset < upper or (upper == 0 and offset == 0):
                return int(step["ScalingAdjustment"])
    return None


@pytest.mark.parametrize("queue", sorted(QUEUES))
def test_step_scaling_on_backlog_within_catalog_bounds(
    synthesized: Synthesized, queue: str
) -> None:
    spec = QUEUES[queue]
    target, pairs = _scaling(synthesized, queue)
    assert target["Properties"]["MinCapacity"] == spec.min_workers
    assert target["Properties"]["MaxCapacity"] == spec.max_workers
    assert len(pairs) == 2
    for _, alarm in pairs:
        props = alarm["Properties"]
        assert props["Namespace"] == metric_names.NAMESPACE
        assert props["MetricName"] == metric_names.BACKLOG
        assert props["Dimensions"] == [{"Name": metric_names.QUEUE_DIMENSION, "Value": queue}]
        assert props["Period"] == 60
    # Simulate the alarms + steps: ceil(backlog / concurrency) within [min, max].
    for backlog in range(0, spec.max_workers * spec.concurrency + 10):
        expected = min(
            spec.max_workers, max(spec.min_workers, math.ceil(backlog / spec.concurrency))
        )
        assert _desired(pairs, backlog) == expected, f"backlog {backlog}"


def test_queues_that_allow_zero_scale_to_zero(synthesized: Synthesized) -> None:
    zero_queues = [q for q, spec in QUEUES.items() if spec.min_workers == 0]
    assert zero_queues, "the catalog has a queue that may scale to zero"
    for queue in zero_queues:
        _, pairs = _scaling(synthesized, queue)
        assert _desired(pairs, 0) == 0
