"""GET /v1/catalog: what a client may submit, with each task's argument JSON Schema."""

from __future__ import annotations

from functools import cache
from typing import Any

from workers import catalog


@cache
def catalog_document() -> dict[str, Any]:
    return {
        "tasks": [
            {
                "name": spec.name,
                "queue": spec.queue,
                "description": spec.description,
                "scope": spec.scope,
                "args_schema": spec.args_model.model_json_schema(),
                "schedules": [
                    {
                        "name": s.name,
                        "expression": s.expression,
                        "args": dict(s.args),
                        "description": s.description,
                    }
                    for s in spec.schedules
                ],
                "soft_time_limit": spec.soft_time_limit,
                "time_limit": spec.time_limit,
            }
            for spec in catalog.submittable()
        ]
    }
