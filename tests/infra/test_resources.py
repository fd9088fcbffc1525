"""DynamoDB, Lambdas, log retention, alarms, and the Lambda asset's contents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk.assertions import Match

from infra.bundle import (
    LAMBDA_PYTHON_VERSION,
    LAMBDA_TASK_ROOT,
    SOURCE_PATHS,
    build_lambda_asset,
    lambda_python,
    pip_command,
)
from infra.lambdas import FUNCTION_SPECS, handler_path
from tests.infra.conftest import ROOT, Synthesized
from workers.contract import table as table_contract


def test_table_is_on_demand_with_pitr_and_customer_key(synthesized: Synthesized) -> None:
    key = synthesized.logical_id(synthesized.stack.parts.store.key)
    synthesized.template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "BillingMode": "PAY_PER_REQUEST",
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": {
                "SSEEnabled": True,
                "SSEType": "KMS",
                "KMSMasterKeyId": {"Fn::GetAtt": [key, "Arn"]},
            },
            "KeySchema": [
                {"AttributeName": table_contract.PARTITION_KEY, "KeyType": "HASH"},
                {"AttributeName": table_contract.SORT_KEY, "KeyType": "RANGE"},
            ],
        },
    )
    synthesized.template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_every_log_group_has_retention(synthesized: Synthesized) -> None:
    groups = synthesized.resources("AWS::Logs::LogGroup")
    assert groups
    assert all("RetentionInDays" in g["Properties"] for g in groups.values())
    # Lambdas log to those groups, not to an implicit /aws/lambda/... group kept forever.
    for function in synthesized.resources("AWS::Lambda::Function").values():
        assert function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"] in groups
    for task in synthesized.resources("AWS::ECS::TaskDefinition").values():
        (container,) = task["Properties"]["ContainerDefinitions"]
        assert container["LogConfiguration"]["Options"]["awslogs-group"]["Ref"] in groups


def test_lambdas_are_traced_arm64_python312_in_the_vpc(synthesized: Synthesized) -> None:
    functions = synthesized.resources("AWS::Lambda::Function")
    assert {f["Properties"]["Handler"] for f in functions.values()} == {
        handler_path(s.name) for s in FUNCTION_SPECS
    }
    synthesized.template.all_resources_properties(
        "AWS::Lambda::Function",
        {
            "TracingConfig": {"Mode": "Active"},
            "Runtime": "python3.12",
            "Architectures": ["arm64"],
            "VpcConfig": Match.object_like({"SubnetIds": Match.any_value()}),
        },
    )


def test_alarms_publish_to_a_topic_under_a_customer_key(synthesized: Synthesized) -> None:
    monitoring = synthesized.stack.parts.monitoring
    topic = synthesized.logical_id(monitoring.topic)
    synthesized.template.has_resource_properties(
        "AWS::SNS::Topic",
        {"KmsMasterKeyId": {"Fn::GetAtt": [synthesized.logical_id(monitoring.key), "Arn"]}},
    )
    alarms = synthesized.resources("AWS::CloudWatch::Alarm")
    ours = [a for a in alarms.values() if {"Ref": topic} in a["Properties"].get("AlarmActions", [])]
    descriptions = " ".join(a["Properties"].get("AlarmDescription", "") for a in ours)
    for concern in (
        "backlog",
        "waited",
        "failed",
        "no running worker",
        "DLQ",
        "Lambda errors",
        "memory",
    ):
        assert concern in descriptions, concern
    synthesized.template.resource_count_is("AWS::CloudWatch::Dashboard", 1)


def test_vpc_has_nat_and_free_gateway_endpoints(synthesized: Synthesized) -> None:
    synthesized.template.resource_count_is("AWS::EC2::NatGateway", 1)
    endpoints = synthesized.resources("AWS::EC2::VPCEndpoint")
    services = json.dumps([e["Properties"]["ServiceName"] for e in endpoints.values()])
    assert ".s3" in services
    assert ".dynamodb" in services
    synthesized.template.resource_count_is("AWS::EC2::FlowLog", 1)


def _lambda_asset_dir(synthesized: Synthesized) -> Path:
    """The directory the synthesized Lambdas' code asset was staged from."""
    assets = json.loads(
        (synthesized.outdir / f"{synthesized.stack.artifact_id}.assets.json").read_text()
    )
    keys = {
        f["Properties"]["Code"]["S3Key"]
        for f in synthesized.resources("AWS::Lambda::Function").values()
    }
    (key,) = keys  # one code asset for all four functions
    return synthesized.outdir / assets["files"][key.removesuffix(".zip")]["source"]["path"]


def test_lambda_asset_holds_no_task_code(synthesized: Synthesized) -> None:
    asset = _lambda_asset_dir(synthesized)
    assert (asset / "functions" / "metrics" / "handler.py").is_file()
    assert (asset / "workers" / "catalog.py").is_file()
    assert (asset / "workers" / "contract" / "settings.py").is_file()
    shipped_workers = {p.name for p in (asset / "workers").iterdir()} - {"__pycache__"}
    assert shipped_workers == {"__init__.py", "catalog.py", "contract"}
    for task_code in ("app.py", "diagnostics", "notifications", "processing", "ops"):
        assert not (asset / "workers" / task_code).exists()
    assert not (asset / "celery").exists()
    # Bytecode, when shipped, is for the Lambda runtime's Python only (never the host's).
    runtime_tag = "cpython-" + LAMBDA_PYTHON_VERSION.replace(".", "")
    assert {p.suffixes[-2].lstrip(".") for p in asset.rglob("*.pyc")} <= {runtime_tag}


def test_asset_builder_copies_exactly_the_allowed_sources(tmp_path: Path) -> None:
    asset = build_lambda_asset(tmp_path / "asset", include_dependencies=False)
    shipped = {str(p.relative_to(asset)) for p in asset.rglob("*.py")}
    allowed_roots = tuple(SOURCE_PATHS)
    assert shipped
    assert all(s.startswith(allowed_roots) for s in shipped)
    # Every module of the light contract is shipped.
    for module in (ROOT / "workers" / "contract").glob("*.py"):
        assert f"workers/contract/{module.name}" in shipped


def test_asset_ships_reproducible_bytecode_named_for_the_lambda_task_root(tmp_path: Path) -> None:
    # Compiled here by the test's own Python (the build uses one of the runtime's version).
    import marshal
    import sys

    tag = sys.implementation.cache_tag
    first = build_lambda_asset(tmp_path / "a", include_dependencies=False, python=sys.executable)
    second = build_lambda_asset(tmp_path / "b", include_dependencies=False, python=sys.executable)
    sources = sorted(first.rglob("*.py"))
    assert sources
    for source in sources:
        relative = source.relative_to(first)
        cached = source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc"
        data = cached.read_bytes()
        # PEP 552 flags: hash-based, not checked against the source (read-only /var/task).
        assert int.from_bytes(data[4:8], "little") == 0b01
        code = marshal.loads(data[16:])
        assert code.co_filename == f"{LAMBDA_TASK_ROOT}/{relative}"
        twin = second / relative.parent / "__pycache__" / cached.name
        assert twin.read_bytes() == data


def test_only_a_python_of_the_runtime_version_compiles_the_asset() -> None:
    import sys

    current = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert lambda_python(current) is not None
    assert lambda_python("2.1") is None


def test_dependencies_are_installed_for_the_lambda_platform() -> None:
    command = pip_command(["pydantic"], Path("/tmp/deps"))
    joined = " ".join(command)
    assert "--platform manylinux2014_aarch64" in joined
    assert "--platform manylinux_2_28_aarch64" in joined
    assert "--python-version 3.12" in joined
    assert "--only-binary=:all:" in joined
    assert "--implementation cp" in joined


@pytest.mark.parametrize("function_name", [s.name for s in FUNCTION_SPECS])
def test_lambda_environment_names_come_from_the_contract(
    synthesized: Synthesized, function_name: str
) -> None:
    from workers.contract import settings as env

    function = synthesized.stack.parts.functions.by_name[function_name]
    variables = synthesized.json["Resources"][synthesized.logical_id(function)]["Properties"][
        "Environment"
    ]["Variables"]
    for name in (
        env.ENV_REDIS_URL,
        env.ENV_REDIS_SECRET_ARN,
        env.ENV_TABLE,
        env.ENV_VISIBILITY_TIMEOUT,
        env.ENV_ENV,
    ):
        assert name in variables
    assert variables[env.ENV_ENV] == "aws"
