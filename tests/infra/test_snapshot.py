"""One snapshot as an early warning for unintended template changes.

The stack is built from a fixed catalog and route table (so other teams' catalog edits
do not churn it) and asset hashes are normalised. After an intended infra change:
``UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/infra/test_snapshot.py``.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from functions.api.routes import Route
from tests.infra.conftest import synthesize
from workers.catalog import QueueSpec, Schedule
from workers.contract import scopes

SNAPSHOT = Path(__file__).parent / "snapshots" / "stack.template.json"
FIXED_QUEUES = (
    QueueSpec(
        name="alpha", description="always one worker", min_workers=1, max_workers=3, concurrency=4
    ),
    QueueSpec(
        name="beta", description="scales to zero", min_workers=0, max_workers=2, concurrency=1
    ),
)
FIXED_SCHEDULES = (Schedule(name="alpha.tick", expression="rate(5 minutes)", description="fixed"),)
FIXED_ROUTES = (
    Route(method="GET", path="/v1/health", scopes=(), operation_id="health", summary="health"),
    Route(
        method="GET",
        path="/v1/things/{id}",
        scopes=(scopes.TASKS_READ,),
        operation_id="thing",
        summary="a thing",
    ),
)
_HASH = re.compile(r"[0-9a-f]{64}")


def _normalise(template: dict[str, Any]) -> dict[str, Any]:
    return json.loads(_HASH.sub("<asset-hash>", json.dumps(template, sort_keys=True)))


def test_template_matches_snapshot(tmp_path: Path, lambda_asset: Path) -> None:
    app, stack = synthesize(
        tmp_path,
        lambda_asset,
        nag=False,
        queues=FIXED_QUEUES,
        schedules=FIXED_SCHEDULES,
        routes=FIXED_ROUTES,
    )
    template = _normalise(app.synth().get_stack_by_name(stack.stack_name).template)
    if os.environ.get("UPDATE_SNAPSHOTS") == "1" or not SNAPSHOT.exists():
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(json.dumps(template, indent=1, sort_keys=True) + "\n")
        if os.environ.get("UPDATE_SNAPSHOTS") != "1":
            pytest.fail(f"snapshot created at {SNAPSHOT}; review and commit it")
    expected = json.loads(SNAPSHOT.read_text())
    changed = sorted(
        k
        for k in set(expected["Resources"]) | set(template["Resources"])
        if expected["Resources"].get(k) != template["Resources"].get(k)
    )
    assert template == expected, (
        f"template changed (resources: {changed[:20]}); if intended run "
        "UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/infra/test_snapshot.py"
    )
