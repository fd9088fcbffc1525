"""EventBridge rules: catalog schedules (replacing celery beat), the metrics tick, and the
events that reach the events Lambda (S3 uploads, SES bounces and complaints)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from functions.events import ses_feedback
from workers.catalog import Schedule

METRICS_RATE = events.Schedule.rate(Duration.minutes(1))
# Schedules de-duplicate on (schedule, time), so redelivery after a failure is safe.
SCHEDULE_RETRY_ATTEMPTS = 4
SCHEDULE_MAX_EVENT_AGE = Duration.hours(1)
# A stale backlog sample is worthless: the next tick comes a minute later.
METRICS_MAX_EVENT_AGE = Duration.minutes(2)


def schedule_input(schedule_name: str) -> events.RuleTargetInput:
    """What the scheduler Lambda receives: ``{"schedule", "time", "event_id"}``."""
    return events.RuleTargetInput.from_object(
        {
            "schedule": schedule_name,
            "time": events.EventField.time,
            "event_id": events.EventField.event_id,
        }
    )


def rule_construct_id(schedule_name: str) -> str:
    return "Schedule-" + re.sub(r"[^A-Za-z0-9]+", "-", schedule_name)


class Schedules(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        schedules: Iterable[Schedule],
        scheduler: lambda_.IFunction,
        metrics: lambda_.IFunction,
        events_handler: lambda_.IFunction,
        uploads: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        # Events EventBridge could not deliver after its retries land here (alarmed).
        self.dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        self.schedule_rules: dict[str, events.Rule] = {}
        for schedule in schedules:
            self.schedule_rules[schedule.name] = events.Rule(
                self,
                rule_construct_id(schedule.name),
                description=f"taskport schedule {schedule.name}: {schedule.description}"[:512],
                schedule=events.Schedule.expression(schedule.expression),
                targets=[
                    targets.LambdaFunction(
                        scheduler,
                        event=schedule_input(schedule.name),
                        dead_letter_queue=self.dead_letters,
                        retry_attempts=SCHEDULE_RETRY_ATTEMPTS,
                        max_event_age=SCHEDULE_MAX_EVENT_AGE,
                    )
                ],
            )
        self.metrics_rule = events.Rule(
            self,
            "MetricsTick",
            description="taskport queue backlog metrics, every minute",
            schedule=METRICS_RATE,
            targets=[
                targets.LambdaFunction(
                    metrics,
                    dead_letter_queue=self.dead_letters,
                    retry_attempts=1,
                    max_event_age=METRICS_MAX_EVENT_AGE,
                )
            ],
        )
        event_target = targets.LambdaFunction(
            events_handler,
            dead_letter_queue=self.dead_letters,
            retry_attempts=SCHEDULE_RETRY_ATTEMPTS,
            max_event_age=Duration.hours(6),
        )
        self.email_events_rule = events.Rule(
            self,
            "EmailEvents",
            description="taskport SES bounces and complaints (configuration set -> default bus)",
            event_pattern=events.EventPattern(
                source=[ses_feedback.SOURCE],
                detail_type=[ses_feedback.BOUNCED, ses_feedback.COMPLAINED],
            ),
            targets=[event_target],
        )
        self.upload_events_rule = events.Rule(
            self,
            "UploadEvents",
            description="taskport uploads: S3 object created",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={"bucket": {"name": [uploads.bucket_name]}},
            ),
            targets=[event_target],
        )
