"""Synthesise the stack once per session (nag on), the way ``cdk synth`` does, minus the
built-in CloudFormation validator (slow, and cfn-lint runs on the real synth)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
os.environ["CDK_VALIDATION"] = "false"
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "1")


def cdk_context() -> dict[str, Any]:
    """pytest does not read cdk.json: load its context like the CLI does."""
    return dict(json.loads((ROOT / "cdk.json").read_text())["context"])


@dataclass
class Synthesized:
    stack: Any  # infra.stack.TaskportStack
    template: Any  # aws_cdk.assertions.Template
    json: dict[str, Any]
    outdir: Path
    nag_error: str | None

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.json["Resources"].items() if v["Type"] == resource_type}

    def logical_id(self, construct: Any) -> str:
        child = getattr(construct.node, "default_child", None) or construct
        return str(self.stack.get_logical_id(child))


def synthesize(
    outdir: Path,
    lambda_asset: Path,
    *,
    nag: bool,
    extra_context: dict[str, Any] | None = None,
    **stack_kwargs: Any,
) -> tuple[Any, Any]:
    from aws_cdk import App

    from infra.app import build_app

    context = {**cdk_context(), **(extra_context or {})}
    app = App(context=context, outdir=str(outdir), builtin_cloud_formation_validation=False)
    stack = build_app(app, lambda_code_dir=lambda_asset, nag=nag, **stack_kwargs)
    return app, stack


@pytest.fixture(scope="session")
def lambda_asset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The asset builder's real output, without the (cached, networked) dependency step."""
    from infra.bundle import build_lambda_asset

    return build_lambda_asset(
        tmp_path_factory.mktemp("asset") / "lambda", include_dependencies=False
    )


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory, lambda_asset: Path) -> Synthesized:
    from aws_cdk.assertions import Template

    outdir = tmp_path_factory.mktemp("cdk.out")
    app, stack = synthesize(outdir, lambda_asset, nag=True)
    nag_error = None
    try:
        assembly = app.synth()
    except Exception as exc:
        report = outdir / "validation-report.json"
        nag_error = str(exc) + ("\n" + report.read_text() if report.exists() else "")
        # Still give the other tests a template: synth again without the nag plugin.
        outdir = tmp_path_factory.mktemp("cdk.out-nonag")
        app, stack = synthesize(outdir, lambda_asset, nag=False)
        assembly = app.synth()
    template_json = assembly.get_stack_by_name(stack.stack_name).template
    return Synthesized(
        stack=stack,
        template=Template.from_json(template_json),
        json=template_json,
        outdir=outdir,
        nag_error=nag_error,
    )
