"""Context parsing and the construct switches that a deployment sets by context."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Template

from infra.cache import replication_group_id
from infra.config import StackConfig
from infra.network import INTERFACE_SERVICES, Network
from infra.worker_services import WorkerServices, health_command
from workers.catalog import QUEUES, longest_time_limit


def test_context_strings_are_parsed_to_typed_settings() -> None:
    app = App(
        context={
            "nat_gateways": "2",
            "interface_endpoints": "true",
            "jwt_issuer": "https://issuer.example.com/",
            "jwt_audience": "a, b",
            "worker_image_uri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/taskport:1",
        }
    )
    config = StackConfig.from_context(app.node)
    assert config.nat_gateways == 2
    assert config.interface_endpoints is True
    assert config.jwt_audience == ("a", "b")
    assert not config.uses_cognito
    assert config.worker_image_uri is not None


def test_defaults_synthesise_and_keep_the_visibility_timeout_above_every_limit() -> None:
    config = StackConfig.from_context(App().node)
    assert config.uses_cognito
    assert config.visibility_timeout_seconds > longest_time_limit()
    assert config.sender == f"noreply@{config.email_domain}"


@pytest.mark.parametrize(
    "context",
    [{"nat_gateways": 0}, {"jwt_issuer": "https://x/"}, {"log_retention_days": 42}],
)
def test_invalid_context_is_rejected(context: dict) -> None:
    with pytest.raises(ValueError):
        StackConfig.from_context(App(context=context).node)


def test_interface_endpoints_switch() -> None:
    stack = Stack(App(), "Net")
    Network(
        stack,
        "Network",
        nat_gateways=1,
        interface_endpoints=True,
        log_retention=logs.RetentionDays.ONE_WEEK,
    )
    template = Template.from_stack(stack)
    endpoints = template.find_resources("AWS::EC2::VPCEndpoint")
    interface = [
        e for e in endpoints.values() if e["Properties"].get("VpcEndpointType") == "Interface"
    ]
    assert len(interface) == len(INTERFACE_SERVICES)


def test_replication_group_id_is_valid_for_any_stack_name() -> None:
    for name in ("Taskport", "taskport-prod", "1st--Stack__Name" * 5):
        group = replication_group_id(name)
        assert len(group) <= 40
        assert group[0].isalpha()
        assert "--" not in group
        assert group == group.lower()


def test_health_check_needs_no_broker() -> None:
    for queue in QUEUES.values():
        kind, script = health_command(queue)
        assert kind == "CMD-SHELL"
        assert "/proc/1" in script
        assert "celery -A" not in script  # no `celery inspect ping` round trip through Redis


def test_prebuilt_ecr_image_is_pulled_without_an_asset(tmp_path: Path) -> None:
    uri = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/taskport-worker:v1"
    app = App(outdir=str(tmp_path))
    stack = Stack(app, "Workers")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2)
    WorkerServices(
        stack,
        "Workers",
        queues=QUEUES.values(),
        vpc=vpc,
        subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
        image_source=uri,
        environment={},
        secrets={},
        cpu=256,
        memory_mib=512,
        log_retention=logs.RetentionDays.ONE_WEEK,
    )
    template = Template.from_stack(stack)
    rendered = json.dumps(template.to_json())
    assert "team/taskport-worker:v1" in rendered
    assert "ecr:BatchGetImage" in rendered  # the execution role may pull from that repository
    manifest = tmp_path / "Workers.assets.json"
    assert not manifest.exists() or not json.loads(manifest.read_text()).get("dockerImages")
