"""``taskport watch``: follow a task until it reaches a final state, with a progress bar."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import IO, Any

from workers.contract.records import FINAL_STATES

BAR_WIDTH = 30


def render(task: dict[str, Any], width: int = BAR_WIDTH) -> str:
    progress = task.get("progress") or {}
    percent = progress.get("percent")
    state = str(task.get("state", "?"))
    if state == "SUCCESS":
        percent = 100
    filled = int(width * min(100.0, max(0.0, float(percent or 0))) / 100)
    bar = "#" * filled + "-" * (width - filled)
    shown = f"{float(percent):5.1f}%" if percent is not None else "   - %"
    message = progress.get("message") or ""
    return f"[{bar}] {shown}  {state:<8} {message}".rstrip()


def follow(
    fetch: Callable[[], dict[str, Any]],
    out: IO[str],
    *,
    interactive: bool,
    interval: float = 0.5,
    timeout: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Poll until a final state (or ``timeout``), drawing the bar; returns the last task."""
    deadline = None if timeout is None else time.monotonic() + timeout
    last_line = ""
    while True:
        task = fetch()
        line = render(task)
        if interactive:
            out.write("\r" + line.ljust(len(last_line)))
            out.flush()
        elif line != last_line:
            out.write(line + "\n")
            out.flush()
        last_line = line
        if task.get("state") in FINAL_STATES:
            if interactive:
                out.write("\n")
            return task
        if deadline is not None and time.monotonic() >= deadline:
            if interactive:
                out.write("\n")
            raise TimeoutError(f"still {task.get('state')} after {timeout:g}s")
        sleep(interval)
