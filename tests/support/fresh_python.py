"""Run code in a fresh interpreter at the repository root (import-time properties, such as
what a module loads, only show in a new process)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str, timeout: float = 120) -> str:
    """``python -c code``; its stdout. Fails the test with its stderr if it exits non-zero."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout
