"""Alarms (to an SNS topic under a customer-managed key), a dashboard, and task outcome
metrics read from the workers' logs.

Alarms: backlog high, oldest waiting task too old, failure rate, no workers while there is
backlog, dead letters present, Lambda errors, cache memory (with ``noeviction`` a full
cache stops the broker).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from functions.metrics import names as metric_names
from infra.worker_services import WorkerServices, backlog_metric
from workers.catalog import QueueSpec

# Celery's worker log lines for a finished task ("Task <name>[<id>] succeeded in ..." and
# "... raised unexpected: ...") become counts without touching worker code.
TASK_SUCCEEDED = "TaskSucceeded"
TASK_FAILED = "TaskFailed"
SUCCESS_PATTERN = '"succeeded in"'
FAILURE_PATTERN = '"raised unexpected"'
FAILURE_RATE_THRESHOLD_PERCENT = 20
FAILURE_RATE_MIN_FAILURES = 5
BACKLOG_HIGH_MINUTES = 15
NO_WORKERS_MINUTES = 10
CACHE_NAMESPACE = "AWS/ElastiCache"


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        queues: Iterable[QueueSpec],
        workers: WorkerServices,
        functions: Mapping[str, lambda_.IFunction],
        dead_letters: sqs.IQueue,
        cache_member_ids: Iterable[str],
        cache_memory_percent: int,
        oldest_age_seconds: int,
        alarm_email: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        # CloudWatch cannot publish to a topic under the AWS-managed SNS key.
        self.key = kms.Key(
            self, "TopicKey", description="taskport alarm topic", enable_key_rotation=True
        )
        self.key.grant(
            iam.ServicePrincipal("cloudwatch.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*"
        )
        self.topic = sns.Topic(
            self, "Alarms", display_name="taskport alarms", master_key=self.key, enforce_ssl=True
        )
        if alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        self._action = cw_actions.SnsAction(self.topic)
        self.alarms: list[cloudwatch.Alarm] = []
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", default_interval=Duration.hours(3))

        queue_list = list(queues)
        for queue in queue_list:
            self._queue_alarms(queue, workers, oldest_age_seconds)
        self._task_outcomes(workers)
        for name, function in functions.items():
            self._alarm(
                f"LambdaErrors-{name}",
                function.metric_errors(period=Duration.minutes(5), statistic="Sum"),
                threshold=1,
                description=f"taskport {name} Lambda errors",
            )
        self._alarm(
            "DeadLetters",
            dead_letters.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(5), statistic="Maximum"
            ),
            threshold=1,
            description="taskport EventBridge deliveries failed (schedule/event DLQ not empty)",
        )
        cache_memory = [
            cloudwatch.Metric(
                namespace=CACHE_NAMESPACE,
                metric_name="DatabaseMemoryUsagePercentage",
                dimensions_map={"CacheClusterId": member},
                period=Duration.minutes(5),
                statistic="Maximum",
            )
            for member in cache_member_ids
        ]
        for index, metric in enumerate(cache_memory, start=1):
            self._alarm(
                f"CacheMemory-{index}",
                metric,
                threshold=cache_memory_percent,
                description="taskport cache memory high: with noeviction a full cache refuses new tasks",
            )
        self._dashboard(queue_list, workers, functions, cache_memory)

    def _alarm(
        self,
        construct_id: str,
        metric: cloudwatch.IMetric,
        *,
        threshold: float,
        description: str,
        evaluation_periods: int = 1,
        missing: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING,
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            metric=metric,
            threshold=threshold,
            evaluation_periods=evaluation_periods,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=missing,
            alarm_description=description,
        )
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
        self.alarms.append(alarm)
        return alarm

    def _queue_alarms(
        self, queue: QueueSpec, workers: WorkerServices, oldest_age_seconds: int
    ) -> None:
        capacity = queue.max_workers * queue.concurrency
        self._alarm(
            f"BacklogHigh-{queue.name}",
            backlog_metric(queue.name),
            threshold=2 * capacity,
            evaluation_periods=BACKLOG_HIGH_MINUTES,
            description=f"taskport {queue.name}: backlog above twice full capacity for {BACKLOG_HIGH_MINUTES} min",
        )
        self._alarm(
            f"OldestTask-{queue.name}",
            backlog_metric(queue.name, metric_names.OLDEST_WAITING_AGE),
            threshold=oldest_age_seconds,
            evaluation_periods=5,
            description=f"taskport {queue.name}: a task has waited longer than {oldest_age_seconds} s",
        )
        # The metrics Lambda publishes every minute: missing data means it is broken.
        self._alarm(
            f"BacklogMissing-{queue.name}",
            cloudwatch.MathExpression(
                expression="IF(FILL(backlog, -1) < 0, 1, 0)",
                using_metrics={"backlog": backlog_metric(queue.name)},
                period=Duration.minutes(1),
            ),
            threshold=1,
            evaluation_periods=5,
            description=f"taskport {queue.name}: no backlog metric (autoscaling is blind)",
        )
        self._alarm(
            f"NoWorkers-{queue.name}",
            cloudwatch.MathExpression(
                expression="IF(backlog > 0 AND FILL(running, 0) < 1, 1, 0)",
                using_metrics={
                    "backlog": backlog_metric(queue.name),
                    "running": workers.running_tasks_metric(queue.name),
                },
                period=Duration.minutes(1),
            ),
            threshold=1,
            evaluation_periods=NO_WORKERS_MINUTES,
            description=f"taskport {queue.name}: backlog but no running worker for {NO_WORKERS_MINUTES} min",
        )

    def _task_outcomes(self, workers: WorkerServices) -> None:
        namespace = metric_names.NAMESPACE
        for queue, log_group in workers.log_groups.items():
            for metric_name, pattern in (
                (TASK_SUCCEEDED, SUCCESS_PATTERN),
                (TASK_FAILED, FAILURE_PATTERN),
            ):
                logs.MetricFilter(
                    self,
                    f"{metric_name}-{queue}",
                    log_group=log_group,
                    metric_namespace=namespace,
                    metric_name=metric_name,
                    filter_pattern=logs.FilterPattern.literal(pattern),
                    metric_value="1",
                    default_value=0,
                )

        def outcome(metric_name: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace=namespace,
                metric_name=metric_name,
                period=Duration.minutes(5),
                statistic="Sum",
            )

        self._alarm(
            "FailureRate",
            cloudwatch.MathExpression(
                expression=(
                    f"IF(failed >= {FAILURE_RATE_MIN_FAILURES}, 100 * failed / (failed + FILL(succeeded, 0)), 0)"
                ),
                using_metrics={
                    "failed": outcome(TASK_FAILED),
                    "succeeded": outcome(TASK_SUCCEEDED),
                },
                period=Duration.minutes(5),
            ),
            threshold=FAILURE_RATE_THRESHOLD_PERCENT,
            evaluation_periods=2,
            description=f"taskport: more than {FAILURE_RATE_THRESHOLD_PERCENT}% of tasks failed",
        )

    def _dashboard(
        self,
        queues: list[QueueSpec],
        workers: WorkerServices,
        functions: Mapping[str, lambda_.IFunction],
        cache_memory: list[cloudwatch.Metric],
    ) -> None:
        for queue in queues:
            self.dashboard.add_widgets(
                cloudwatch.GraphWidget(
                    title=f"{queue.name}: backlog",
                    left=[
                        backlog_metric(queue.name, metric_names.WAITING),
                        backlog_metric(queue.name, metric_names.IN_FLIGHT),
                        backlog_metric(queue.name),
                    ],
                    right=[workers.running_tasks_metric(queue.name)],
                    width=12,
                ),
                cloudwatch.GraphWidget(
                    title=f"{queue.name}: oldest waiting (s)",
                    left=[backlog_metric(queue.name, metric_names.OLDEST_WAITING_AGE)],
                    width=12,
                ),
            )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Lambda errors",
                left=[f.metric_errors(period=Duration.minutes(5)) for f in functions.values()],
                width=12,
            ),
            cloudwatch.GraphWidget(title="Cache memory %", left=list(cache_memory), width=12),
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms), width=24),
        )
