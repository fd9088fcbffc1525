"""The four Lambdas (api, scheduler, events, metrics): one code asset, in the VPC, traced.

The asset is the directory ``infra.bundle`` builds (dependencies + ``functions/`` + the
light part of ``workers/``); entry points are fixed: ``functions/<name>/handler.py:handler``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from functions.metrics import names as metric_names

API = "api"
SCHEDULER = "scheduler"
EVENTS = "events"
METRICS = "metrics"


@dataclass(frozen=True, kw_only=True)
class FunctionSpec:
    name: str
    description: str
    memory_mib: int = 256
    timeout_seconds: int = 30


FUNCTION_SPECS: tuple[FunctionSpec, ...] = (
    # API Gateway gives an HTTP API integration at most 30 s; answer well before.
    FunctionSpec(name=API, description="taskport HTTP API", memory_mib=512, timeout_seconds=15),
    FunctionSpec(name=SCHEDULER, description="taskport schedules: enqueue catalog schedules"),
    FunctionSpec(name=EVENTS, description="taskport events: S3 uploads and SES bounces/complaints"),
    FunctionSpec(name=METRICS, description="taskport queue backlog metrics (every minute)"),
)


def handler_path(name: str) -> str:
    return f"functions.{name}.handler.handler"


class Functions(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code_dir: Path,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        environment: Mapping[str, str],
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        self.security_group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=vpc, description="taskport Lambdas"
        )
        code = lambda_.Code.from_asset(str(code_dir))
        self.by_name: dict[str, lambda_.Function] = {}
        for spec in FUNCTION_SPECS:
            log_group = logs.LogGroup(self, f"{spec.name}-logs", retention=log_retention)
            self.by_name[spec.name] = lambda_.Function(
                self,
                spec.name,
                description=spec.description,
                runtime=lambda_.Runtime.PYTHON_3_12,
                architecture=lambda_.Architecture.ARM_64,
                handler=handler_path(spec.name),
                code=code,
                memory_size=spec.memory_mib,
                timeout=Duration.seconds(spec.timeout_seconds),
                vpc=vpc,
                vpc_subnets=subnets,
                security_groups=[self.security_group],
                tracing=lambda_.Tracing.ACTIVE,
                log_group=log_group,
                environment={
                    **environment,
                    "POWERTOOLS_SERVICE_NAME": f"taskport-{spec.name}",
                    "POWERTOOLS_METRICS_NAMESPACE": metric_names.NAMESPACE,
                    "POWERTOOLS_LOG_LEVEL": "INFO",
                },
            )

    @property
    def api(self) -> lambda_.Function:
        return self.by_name[API]

    @property
    def scheduler(self) -> lambda_.Function:
        return self.by_name[SCHEDULER]

    @property
    def events(self) -> lambda_.Function:
        return self.by_name[EVENTS]

    @property
    def metrics(self) -> lambda_.Function:
        return self.by_name[METRICS]
