"""Where a running ``taskport local`` leaves what other shells need: its URLs and signing key.

``taskport token`` and the other CLI commands read them, so ``TOKEN=$(taskport token)`` in a
second shell works against the running local mode. Tests point ``TASKPORT_LOCAL_STATE_DIR``
at a temporary directory so they never touch (or collide with) a developer's ``make run``.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

ENV_STATE_DIR: Final = "TASKPORT_LOCAL_STATE_DIR"
STATE_FILE: Final = "local.json"
KEY_FILE: Final = "signing-key.pem"
DEFAULT_API_URL: Final = "http://127.0.0.1:3000"


def project_root() -> Path:
    """The checkout this package runs from (editable install), else the working directory."""
    here = Path(__file__).resolve().parents[2]
    return here if (here / "pyproject.toml").is_file() else Path.cwd()


def state_dir() -> Path:
    configured = os.environ.get(ENV_STATE_DIR)
    return Path(configured) if configured else project_root() / ".taskport"


@dataclass
class LocalState:
    """What the ready line announces; written at ready, removed at shutdown."""

    url: str
    redis_url: str
    moto_url: str
    pids: dict[str, int] = field(default_factory=dict)
    supervisor_pid: int = 0

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))


def write_state(state: LocalState, directory: Path | None = None) -> Path:
    directory = directory or state_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / STATE_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(state.to_json())
    tmp.replace(path)
    return path


def read_state(directory: Path | None = None) -> LocalState | None:
    path = (directory or state_dir()) / STATE_FILE
    try:
        data: dict[str, Any] = json.loads(path.read_text())
        return LocalState(**data)
    except (OSError, ValueError, TypeError):
        return None


def remove_state(directory: Path | None = None) -> None:
    path = (directory or state_dir()) / STATE_FILE
    path.unlink(missing_ok=True)
