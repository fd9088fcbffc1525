"""The CDK entry point (``cdk.json``: ``python -m infra.app``).

Builds the Lambda asset (cached dependencies, no Docker), the stack from the catalog and
context, and plugs cdk-nag's AwsSolutions checks into synth: an unacknowledged finding
fails synth.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks

from functions.api.routes import Route
from infra.bundle import build_lambda_asset
from infra.config import StackConfig
from infra.stack import TaskportStack
from workers.catalog import QueueSpec, Schedule


def build_app(
    app: App,
    *,
    lambda_code_dir: Path,
    nag: bool = True,
    queues: Iterable[QueueSpec] | None = None,
    schedules: Iterable[Schedule] | None = None,
    routes: Iterable[Route] | None = None,
) -> TaskportStack:
    """Add the taskport stack (and the nag checks) to ``app``; shared with the tests."""
    config = StackConfig.from_context(app.node)
    stack = TaskportStack(
        app,
        config.stack_name,
        config=config,
        lambda_code_dir=lambda_code_dir,
        queues=queues,
        schedules=schedules,
        routes=routes,
    )
    if nag:
        Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return stack


def main() -> None:
    app = App()
    build_app(app, lambda_code_dir=build_lambda_asset())
    app.synth()


if __name__ == "__main__":
    main()
