"""cdk-nag AwsSolutions: synth with the checks plugged in has no unacknowledged finding."""

from __future__ import annotations

from tests.infra.conftest import Synthesized

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
