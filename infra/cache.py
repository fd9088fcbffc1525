"""ElastiCache (Valkey, Redis-compatible): broker, results and fast state (DESIGN 4).

Cluster mode off (Celery does not support it), two nodes across AZs with automatic
failover, TLS required, encryption at rest, an AUTH token generated in Secrets Manager and
resolved by CloudFormation at deploy time (a dynamic reference, never plain text), and
``maxmemory-policy noeviction`` so a full cache refuses writes instead of silently
dropping queued tasks.
"""

from __future__ import annotations

import re

from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

ENGINE = "valkey"
ENGINE_VERSION = "8.0"
PARAMETER_FAMILY = "valkey8"
NODES = 2
# ElastiCache names member clusters <replication group id>-001, -002, ...
MEMBER_SUFFIXES = tuple(f"-{n:03d}" for n in range(1, NODES + 1))
AUTH_TOKEN_LENGTH = 64


def replication_group_id(stack_name: str) -> str:
    """A valid, stable id (lowercase letters, digits, single hyphens, <= 40 chars)."""
    base = re.sub(r"[^a-z0-9]+", "-", stack_name.lower()).strip("-") or "taskport"
    if not base[0].isalpha():
        base = f"t-{base}"
    return f"{base[:33].rstrip('-')}-cache"


class Cache(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        node_type: str,
        port: int,
        key: kms.IKey,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        self.port = port
        self.group_id = replication_group_id(Stack.of(self).stack_name)
        # Alphanumeric only: AUTH tokens forbid some punctuation and URLs would need quoting.
        self.auth_secret = secretsmanager.Secret(
            self,
            "AuthToken",
            description="taskport cache AUTH token (REDIS_PASSWORD for workers, REDIS_SECRET_ARN for Lambdas)",
            encryption_key=key,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                exclude_punctuation=True, password_length=AUTH_TOKEN_LENGTH
            ),
        )
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description="taskport cache: ingress only from workers and Lambdas",
            allow_all_outbound=False,
        )
        subnet_group = elasticache.CfnSubnetGroup(
            self,
            "Subnets",
            description="taskport cache subnets",
            subnet_ids=vpc.select_subnets(subnet_type=subnets.subnet_type).subnet_ids,
        )
        parameters = elasticache.CfnParameterGroup(
            self,
            "Parameters",
            cache_parameter_group_family=PARAMETER_FAMILY,
            description="taskport: never evict (a full broker must refuse writes, not drop tasks)",
            properties={"maxmemory-policy": "noeviction"},
        )
        slow_log = logs.LogGroup(self, "SlowLog", retention=log_retention)
        self.replication_group = elasticache.CfnReplicationGroup(
            self,
            "ReplicationGroup",
            replication_group_id=self.group_id,
            replication_group_description="taskport broker, results and fast state",
            engine=ENGINE,
            engine_version=ENGINE_VERSION,
            cache_node_type=node_type,
            num_cache_clusters=NODES,
            automatic_failover_enabled=True,
            multi_az_enabled=True,
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            at_rest_encryption_enabled=True,
            kms_key_id=key.key_arn,
            auth_token=self.auth_secret.secret_value.unsafe_unwrap(),
            port=port,
            cache_parameter_group_name=parameters.ref,
            cache_subnet_group_name=subnet_group.ref,
            security_group_ids=[self.security_group.security_group_id],
            auto_minor_version_upgrade=True,
            snapshot_retention_limit=1,
            log_delivery_configurations=[
                elasticache.CfnReplicationGroup.LogDeliveryConfigurationRequestProperty(
                    destination_type="cloudwatch-logs",
                    log_format="json",
                    log_type="slow-log",
                    destination_details=elasticache.CfnReplicationGroup.DestinationDetailsProperty(
                        cloud_watch_logs_details=elasticache.CfnReplicationGroup.CloudWatchLogsDestinationDetailsProperty(
                            log_group=slow_log.log_group_name
                        )
                    ),
                )
            ],
        )

    @property
    def url(self) -> str:
        """``REDIS_URL`` without a password, TLS with certificate checks (DESIGN 5)."""
        host = self.replication_group.attr_primary_end_point_address
        port = self.replication_group.attr_primary_end_point_port
        return f"rediss://{host}:{port}/0?ssl_cert_reqs=required"

    @property
    def member_ids(self) -> tuple[str, ...]:
        return tuple(f"{self.group_id}{suffix}" for suffix in MEMBER_SUFFIXES)

    def allow_from(self, *peers: ec2.IConnectable) -> None:
        for peer in peers:
            self.security_group.connections.allow_from(
                peer, ec2.Port.tcp(self.port), "taskport clients (TLS + AUTH)"
            )
