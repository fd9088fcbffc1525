"""EventBridge: one rule per catalog schedule in the scheduler's input shape; event rules."""

from __future__ import annotations

import json

from aws_cdk.assertions import Match

from tests.infra.conftest import Synthesized
from workers.catalog import SCHEDULES


def _schedule_rules(synthesized: Synthesized) -> dict[str, dict]:
    scheduler = synthesized.logical_id(synthesized.stack.parts.functions.scheduler)
    rules = {}
    for rule in synthesized.resources("AWS::Events::Rule").values():
        (target,) = rule["Properties"]["Targets"]
        if target["Arn"] == {"Fn::GetAtt": [scheduler, "Arn"]}:
            rules[json.loads(_render(target["InputTransformer"]["InputTemplate"]))["schedule"]] = (
                rule["Properties"]
            )
    return rules


def _render(template: str) -> str:
    """The transformer template with its placeholders filled, as EventBridge would."""
    return template.replace("<time>", '"2026-01-01T00:00:00Z"').replace("<id>", '"evt-1"')


def test_one_rule_per_catalog_schedule(synthesized: Synthesized) -> None:
    rules = _schedule_rules(synthesized)
    assert set(rules) == set(SCHEDULES)
    for name, (schedule, _task) in SCHEDULES.items():
        assert rules[name]["ScheduleExpression"] == schedule.expression


def test_scheduler_input_transformer_shape(synthesized: Synthesized) -> None:
    dead_letters = synthesized.logical_id(synthesized.stack.parts.schedules.dead_letters)
    for name, props in _schedule_rules(synthesized).items():
        (target,) = props["Targets"]
        transformer = target["InputTransformer"]
        paths = transformer["InputPathsMap"]
        assert {paths[k] for k in paths} == {"$.time", "$.id"}
        assert json.loads(_render(transformer["InputTemplate"])) == {
            "schedule": name,
            "time": "2026-01-01T00:00:00Z",
            "event_id": "evt-1",
        }
        assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1
        assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [dead_letters, "Arn"]}}


def test_metrics_lambda_runs_every_minute(synthesized: Synthesized) -> None:
    metrics = synthesized.logical_id(synthesized.stack.parts.functions.metrics)
    synthesized.template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "ScheduleExpression": "rate(1 minute)",
            "Targets": [Match.object_like({"Arn": {"Fn::GetAtt": [metrics, "Arn"]}})],
        },
    )


def test_ses_bounces_and_complaints_reach_the_events_lambda(synthesized: Synthesized) -> None:
    events_fn = synthesized.logical_id(synthesized.stack.parts.functions.events)
    synthesized.template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.ses"],
                "detail-type": ["Email Bounced", "Email Complaint Received"],
            },
            "Targets": [Match.object_like({"Arn": {"Fn::GetAtt": [events_fn, "Arn"]}})],
        },
    )
    synthesized.template.has_resource_properties(
        "AWS::SES::ConfigurationSetEventDestination",
        {
            "EventDestination": Match.object_like(
                {
                    "Enabled": True,
                    "MatchingEventTypes": Match.array_with(["bounce", "complaint"]),
                    "EventBridgeDestination": {"EventBusArn": Match.any_value()},
                }
            )
        },
    )
    synthesized.template.has_resource_properties(
        "AWS::SES::ConfigurationSet", {"ReputationOptions": {"ReputationMetricsEnabled": True}}
    )


def test_uploads_reach_the_events_lambda(synthesized: Synthesized) -> None:
    uploads = synthesized.logical_id(synthesized.stack.parts.store.uploads)
    synthesized.template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.s3"],
                "detail-type": ["Object Created"],
                "detail": {"bucket": {"name": [{"Ref": uploads}]}},
            }
        },
    )
    synthesized.template.has_resource_properties(
        "AWS::S3::Bucket",
        {"NotificationConfiguration": {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}},
    )
