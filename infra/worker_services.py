"""Celery workers on ECS Fargate: one service per catalog queue, scaled on backlog.

Shutdown follows DESIGN 5: ``REMAP_SIGTERM=SIGQUIT`` turns Fargate's SIGTERM into Celery's
soft shutdown, bounded by ``TASKPORT_SOFT_SHUTDOWN_TIMEOUT`` (~100 s), then a cold shutdown
that requeues unacknowledged messages, all within ``stopTimeout`` (120 s) before SIGKILL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from aws_cdk import Annotations, Aws, Duration
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from functions.metrics import names as metric_names
from workers.catalog import QueueSpec
from workers.contract.settings import ENV_REMAP_SIGTERM, ENV_SOFT_SHUTDOWN_TIMEOUT

STOP_TIMEOUT_SECONDS = 120
SOFT_SHUTDOWN_SECONDS = 100
WORKER_UID = "10001"  # matches the Dockerfile's user; enforced even for a prebuilt image
TMP_VOLUME = "tmp"
METRIC_PERIOD = Duration.minutes(1)
CONTAINER_NAME = "worker"
ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<name>[a-z0-9._/-]+?)(?::(?P<tag>[\w.-]+)|@(?P<digest>sha256:[0-9a-f]{64}))?$"
)


def worker_command(queue: QueueSpec) -> list[str]:
    return [
        "celery",
        "-A",
        "workers.app",
        "worker",
        "-Q",
        queue.name,
        "--pool",
        queue.pool,
        "-c",
        str(queue.concurrency),
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--loglevel",
        "INFO",
    ]


def health_command(queue: QueueSpec) -> list[str]:
    """A liveness check that needs no broker round trip and no Python start-up.

    ``celery inspect ping`` would start a Python process, import the app and round-trip
    through Redis every interval (and fail every worker at once during a cache failover,
    which Celery survives by reconnecting). Instead: PID 1 must still be the Celery worker,
    not a zombie or stopped; a prefork worker must also still have pool children (its
    pool processes are the ones doing the work).
    """
    script = "grep -q celery /proc/1/cmdline && ! grep -qE '^State:[[:space:]]+[ZT]' /proc/1/status"
    if queue.pool == "prefork":
        script += " && grep -qsE '^PPid:[[:space:]]+1$' /proc/[0-9]*/status"
    return ["CMD-SHELL", script]


def scaling_steps(queue: QueueSpec) -> list[appscaling.ScalingInterval]:
    """Exact capacity by backlog: ceil(backlog / concurrency) workers within the bounds.

    A backlog of 0 (nothing waiting *and* nothing running) returns to ``min_workers``;
    backlog b >= 1 asks for ceil(b / concurrency) workers, capped at ``max_workers``.
    """
    steps = [appscaling.ScalingInterval(upper=0, change=queue.min_workers)]
    for workers in range(1, queue.max_workers + 1):
        steps.append(
            appscaling.ScalingInterval(
                lower=(workers - 1) * queue.concurrency + 1, change=max(workers, queue.min_workers)
            )
        )
    return steps


def backlog_metric(queue: str, metric_name: str = metric_names.BACKLOG) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace=metric_names.NAMESPACE,
        metric_name=metric_name,
        dimensions_map={metric_names.QUEUE_DIMENSION: queue},
        period=METRIC_PERIOD,
        statistic="Maximum",
    )


class WorkerServices(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        queues: Iterable[QueueSpec],
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        image_source: Path | str,
        environment: Mapping[str, str],
        secrets: Mapping[str, ecs.Secret],
        cpu: int,
        memory_mib: int,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        self.cluster = ecs.Cluster(
            self, "Cluster", vpc=vpc, container_insights_v2=ecs.ContainerInsights.ENABLED
        )
        self.security_group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=vpc, description="taskport workers"
        )
        # One role for every queue's tasks: any catalog task may be routed to any queue, so
        # permissions follow the image (the same code), not the queue.
        self.task_role = iam.Role(
            self, "TaskRole", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com")
        )
        self._pull_repository_arn: str | None = None
        image = self._image(image_source)
        self.services: dict[str, ecs.FargateService] = {}
        self.log_groups: dict[str, logs.LogGroup] = {}
        for queue in queues:
            self.services[queue.name] = self._service(
                queue,
                image=image,
                subnets=subnets,
                environment=environment,
                secrets=secrets,
                cpu=cpu,
                memory_mib=memory_mib,
                log_retention=log_retention,
            )

    def _image(self, source: Path | str) -> ecs.ContainerImage:
        """The Dockerfile in the repo as an ARM64 asset, or a prebuilt image URI."""
        if isinstance(source, Path):
            return ecs.ContainerImage.from_asset(
                str(source), platform=ecr_assets.Platform.LINUX_ARM64
            )
        ecr_image = ECR_IMAGE.match(source)
        if ecr_image is not None:
            # A private ECR image: the execution roles get pull rights on that repository.
            self._pull_repository_arn = (
                f"arn:{Aws.PARTITION}:ecr:{ecr_image['region']}:{ecr_image['account']}"
                f":repository/{ecr_image['name']}"
            )
        return ecs.ContainerImage.from_registry(source)

    def _grant_pull(self, task_definition: ecs.TaskDefinition) -> None:
        if self._pull_repository_arn is None:
            return
        role = task_definition.obtain_execution_role()
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:BatchGetImage",
                ],
                resources=[self._pull_repository_arn],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"])
        )

    def _service(
        self,
        queue: QueueSpec,
        *,
        image: ecs.ContainerImage,
        subnets: ec2.SubnetSelection,
        environment: Mapping[str, str],
        secrets: Mapping[str, ecs.Secret],
        cpu: int,
        memory_mib: int,
        log_retention: logs.RetentionDays,
    ) -> ecs.FargateService:
        scope = Construct(self, queue.name)
        task_definition = ecs.FargateTaskDefinition(
            scope,
            "TaskDefinition",
            cpu=cpu,
            memory_limit_mib=memory_mib,
            task_role=self.task_role,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.ARM64,
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
        )
        task_definition.add_volume(name=TMP_VOLUME)
        self._grant_pull(task_definition)
        log_group = logs.LogGroup(scope, "Logs", retention=log_retention)
        self.log_groups[queue.name] = log_group
        container = task_definition.add_container(
            CONTAINER_NAME,
            image=image,
            command=worker_command(queue),
            user=WORKER_UID,
            readonly_root_filesystem=True,
            environment={
                **environment,
                **({ENV_REMAP_SIGTERM: "SIGQUIT"} if queue.remap_sigterm else {}),
                ENV_SOFT_SHUTDOWN_TIMEOUT: str(SOFT_SHUTDOWN_SECONDS),
            },
            secrets=dict(secrets),
            stop_timeout=Duration.seconds(STOP_TIMEOUT_SECONDS),
            health_check=ecs.HealthCheck(
                command=health_command(queue),
                interval=Duration.seconds(30),
                timeout=Duration.seconds(5),
                retries=3,
                start_period=Duration.seconds(60),
            ),
            logging=ecs.LogDrivers.aws_logs(stream_prefix=queue.name, log_group=log_group),
        )
        if self._pull_repository_arn is not None:
            # from_registry() warns that an ECR image needs a pull policy: _grant_pull adds it.
            Annotations.of(container).acknowledge_warning(
                "@aws-cdk/aws-ecs:ecrImageRequiresPolicy",
                "the execution role is granted ECR pull on the image's repository",
            )
        container.add_mount_points(
            ecs.MountPoint(container_path="/tmp", source_volume=TMP_VOLUME, read_only=False)  # noqa: S108
        )
        service = ecs.FargateService(
            scope,
            "Service",
            cluster=self.cluster,
            task_definition=task_definition,
            vpc_subnets=subnets,
            security_groups=[self.security_group],
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            min_healthy_percent=100,
            max_healthy_percent=200,
        )
        scaling = service.auto_scale_task_count(
            min_capacity=queue.min_workers, max_capacity=queue.max_workers
        )
        scaling.scale_on_metric(
            "Backlog",
            metric=backlog_metric(queue.name),
            scaling_steps=scaling_steps(queue),
            adjustment_type=appscaling.AdjustmentType.EXACT_CAPACITY,
            metric_aggregation_type=appscaling.MetricAggregationType.MAXIMUM,
            evaluation_periods=1,
            datapoints_to_alarm=1,
            cooldown=Duration.seconds(60),
        )
        return service

    def running_tasks_metric(self, queue: str) -> cloudwatch.Metric:
        """Container Insights' running task count of a queue's service."""
        return cloudwatch.Metric(
            namespace="ECS/ContainerInsights",
            metric_name="RunningTaskCount",
            dimensions_map={
                "ClusterName": self.cluster.cluster_name,
                "ServiceName": self.services[queue].service_name,
            },
            period=METRIC_PERIOD,
            statistic="Maximum",
        )
