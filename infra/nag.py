"""cdk-nag (AwsSolutions) acknowledgments, each on the narrowest construct with its reason.

Anything not acknowledged here fails ``cdk synth`` (cdk-nag 3 runs as a CDK validation
plugin) and the infra tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aws_cdk import Acknowledgment, CfnElement, Stack, Validations
from aws_cdk.aws_apigatewayv2 import CfnRoute
from constructs import IConstruct

if TYPE_CHECKING:
    from infra.cache import Cache
    from infra.durable_store import DurableStore
    from infra.http_api import HttpApi
    from infra.lambdas import Functions
    from infra.monitoring import Monitoring
    from infra.network import Network
    from infra.schedules import Schedules
    from infra.worker_services import WorkerServices


@dataclass(frozen=True, kw_only=True)
class Parts:
    network: Network
    store: DurableStore
    cache: Cache
    functions: Functions
    workers: WorkerServices
    api: HttpApi
    schedules: Schedules
    monitoring: Monitoring


@dataclass(frozen=True)
class Acknowledged:
    path: str
    rule: str
    reason: str


def _ack(construct: IConstruct, rule: str, reason: str, *, record: list[Acknowledged]) -> None:
    Validations.of(construct).acknowledge(Acknowledgment(id=rule, reason=reason))
    record.append(Acknowledged(path=construct.node.path, rule=rule, reason=reason))


LAMBDA_MANAGED_POLICIES = (
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]",
)
KMS_WILDCARD_ACTIONS = (
    "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
    "AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
)
KMS_REASON = (
    "CDK's KMS grants on the one customer-managed data key (resource scoped to its ARN): "
    "GenerateDataKey*/ReEncrypt* are what DynamoDB, S3 and Secrets Manager SSE-KMS use."
)


def _objects_of(stack: Stack, bucket: IConstruct) -> str:
    """The finding id of an ``<bucket>/*`` resource, computed (never a hard-coded hash)."""
    default_child = bucket.node.default_child
    assert isinstance(default_child, CfnElement)
    return f"AwsSolutions-IAM5[Resource::<{stack.get_logical_id(default_child)}.Arn>/*]"


def acknowledge(stack: Stack, parts: Parts) -> list[Acknowledged]:
    """Acknowledge the reviewed findings; returns what was acknowledged, for the tests."""
    record: list[Acknowledged] = []
    api_routes = parts.api.node
    for route in api_routes.find_all():
        if isinstance(route, CfnRoute) and route.authorization_type in (None, "NONE"):
            _ack(
                route,
                "AwsSolutions-APIG4",
                "Public by the shared route table (health, OpenAPI document, Swagger UI) or the "
                "$default catch-all that only answers taskport's JSON 404; every other route "
                "has the JWT authorizer with scopes.",
                record=record,
            )
    if parts.api.user_pool is not None:
        _ack(
            parts.api.user_pool,
            "AwsSolutions-COG8",
            "Threat protection (Plus plan) guards end-user sign-ins; this pool has self sign-up "
            "disabled and only machine clients using the client-credentials flow.",
            record=record,
        )
    _ack(
        parts.cache.auth_secret,
        "AwsSolutions-SMG4",
        "An ElastiCache AUTH token cannot be rotated by a Secrets Manager rotation Lambda alone: "
        "it needs ModifyReplicationGroup ROTATE then SET while clients reconnect; the runbook "
        "is in docs/deploy.md.",
        record=record,
    )
    _ack(
        parts.schedules.dead_letters,
        "AwsSolutions-SQS3",
        "This queue is itself the dead-letter queue of the EventBridge targets (the rule only "
        "recognises DLQs of other SQS queues); it is alarmed when not empty.",
        record=record,
    )
    for function in parts.functions.by_name.values():
        _ack(
            function,
            "AwsSolutions-L1",
            "DESIGN 2a pins Python 3.12 on ARM64 for Lambdas and the worker image alike.",
            record=record,
        )
        role = function.role
        assert role is not None
        for rule in LAMBDA_MANAGED_POLICIES:
            _ack(
                role,
                rule,
                "AWS-managed Lambda execution policies: write to the function's own log group "
                "and manage its VPC network interfaces (EC2 ENI actions have no resource scope).",
                record=record,
            )
        _ack(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray active tracing: xray:PutTraceSegments/PutTelemetryRecords support no "
            "resource-level permissions.",
            record=record,
        )
    for grantee in (parts.functions.api.role, parts.functions.events.role, parts.workers.task_role):
        assert grantee is not None
        for rule in KMS_WILDCARD_ACTIONS:
            _ack(grantee, rule, KMS_REASON, record=record)
    uploads_objects = _objects_of(stack, parts.store.uploads)
    _ack(
        parts.functions.api.role,  # type: ignore[arg-type]
        uploads_objects,
        "The API hands out uploads under tenant-chosen object keys: s3:PutObject on this one bucket's objects.",
        record=record,
    )
    _ack(
        parts.workers.task_role,
        uploads_objects,
        "CSV import reads any uploaded object: s3:GetObject on this one bucket's objects.",
        record=record,
    )
    for service in parts.workers.services.values():
        task_definition = service.task_definition
        _ack(
            task_definition,
            "AwsSolutions-ECS2",
            "Only non-secret configuration is in the environment (endpoints, names, timeouts); "
            "the cache AUTH token is injected through ECS secrets.",
            record=record,
        )
        execution_role = task_definition.execution_role
        if execution_role is not None:
            _ack(
                execution_role,
                "AwsSolutions-IAM5[Resource::*]",
                "ecr:GetAuthorizationToken (pulling the worker image asset) has no "
                "resource-level permissions.",
                record=record,
            )
    return record
