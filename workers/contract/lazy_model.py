"""The base of taskport's own pydantic models: their schemas are built on first use.

A model class normally builds its validator and serializer when the class statement runs
(about 0.3-3 ms each). The API Lambda imports dozens of models (every task's arguments, every
route's request and response) but the first request needs only a few, so building them at
import was a large part of a cold start. ``defer_build`` moves each build to the model's
first validation, serialization or JSON Schema; behaviour is otherwise unchanged.
Subclasses that set ``model_config`` keep this setting (pydantic merges configs).
"""

from __future__ import annotations

from typing import Final

from pydantic import BaseModel, ConfigDict

# For models that cannot derive from LazyModel (``RootModel`` subclasses).
LAZY_CONFIG: Final = ConfigDict(defer_build=True)


class LazyModel(BaseModel):
    model_config = LAZY_CONFIG
