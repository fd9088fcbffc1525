"""cdk-nag AwsSolutions: synth with the checks plugged in has no unacknowledged finding."""

from __future__ import annotations

from pathlib import Path

from tests.infra.conftest import Synthesized, synthesize

PLACEHOLDERS = ("todo", "fixme", "suppress", "not needed", "n/a")


def test_no_unacknowledged_findings(synthesized: Synthesized) -> None:
    assert synthesized.nag_error is None, synthesized.nag_error


def test_every_acknowledgment_is_narrow_and_has_a_specific_reason(synthesized: Synthesized) -> None:
    acknowledged = synthesized.stack.acknowledgments
    assert acknowledged
    for ack in acknowledged:
        assert ack.rule.startswith("AwsSolutions-")
        # On a construct inside the stack, never the stack or app as a whole.
        assert ack.path.count("/") >= 1, ack
        assert len(ack.reason) > 40, ack
        assert not any(p in ack.reason.lower() for p in PLACEHOLDERS), ack
    # Wildcard IAM findings are acknowledged one finding id at a time.
    assert all(not a.rule.endswith("IAM5") for a in acknowledged)


def test_alternative_deployment_choices_pass_too(tmp_path: Path, lambda_asset: Path) -> None:
    """Existing issuer, interface endpoints, 2 NATs and a prebuilt ECR image: still clean."""
    context = {
        "jwt_issuer": "https://issuer.example.com/",
        "jwt_audience": "taskport-api",
        "interface_endpoints": True,
        "nat_gateways": 2,
        "worker_image_uri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/taskport:1",
        "alarm_email": "ops@example.org",
    }
    app, stack = synthesize(tmp_path, lambda_asset, nag=True, extra_context=context)
    template = app.synth().get_stack_by_name(stack.stack_name).template  # raises on a finding
    types = [r["Type"] for r in template["Resources"].values()]
    assert "AWS::Cognito::UserPool" not in types
    assert types.count("AWS::EC2::NatGateway") == 2
