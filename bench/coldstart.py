"""Cold start: fresh process -> handler imported -> first 202, taskport vs a naive handler
and vs the floor (bench/floor_handler.py: only the libraries taskport must use).

Each run is a new Python process; the time is measured inside it from before the first
import to the first 202 (interpreter start-up is the same for both and excluded). Runs
alternate between variants so machine noise hits both alike. Prints medians, a profile
of where taskport's time goes (-X importtime, top entries) and writes
bench/results/coldstart.json. Not run by `make test`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from infra.local.redis_server import RedisServer  # noqa: E402

PROBE = """
import time
t0 = time.perf_counter()
import json, sys
sys.path.insert(0, {root!r})
from {module} import handler
t1 = time.perf_counter()
event = json.loads({event!r})
class Ctx:
    function_name = "bench"; memory_limit_in_mb = 256; aws_request_id = "r"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
result = handler(event, Ctx())
t2 = time.perf_counter()
assert result["statusCode"] == 202, result
print(json.dumps({{"import_ms": (t1 - t0) * 1e3, "first_202_ms": (t2 - t0) * 1e3}}))
"""

VARIANTS = {
    "taskport": "functions.api.handler",
    "naive (no result backend)": "bench.naive_handler",
    "naive (with result backend)": "bench.naive_handler",
    "floor (mandated parts only)": "bench.floor_handler",
}


def run_once(module: str, event: str, env: dict[str, str]) -> dict[str, float]:
    code = PROBE.format(root=str(ROOT), module=module, event=event)
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def import_profile(env: dict[str, str], top: int = 12) -> list[tuple[str, float]]:
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import functions.api.handler"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    rows = []
    for line in out.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            name = parts[2].rstrip()
            depth = (len(name) - len(name.lstrip())) // 2
            if depth <= 1:
                rows.append((name.strip(), int(parts[1]) / 1000))
    return sorted(rows, key=lambda r: -r[1])[:top]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    server = RedisServer().start()
    try:
        from tests.functional.conftest import ApiClient

        event = json.dumps(
            ApiClient().event(
                "POST", "/v1/tasks", body={"task": "diagnostics.echo", "args": {"message": "hi"}}
            )
        )
        base_env = {**os.environ, "REDIS_URL": server.url, "PYTHONDONTWRITEBYTECODE": "1"}
        envs = {
            "taskport": base_env,
            "naive (no result backend)": base_env,
            "naive (with result backend)": {**base_env, "NAIVE_BACKEND": server.url},
            "floor (mandated parts only)": base_env,
        }
        samples: dict[str, list[dict[str, float]]] = {name: [] for name in VARIANTS}
        for name, module in VARIANTS.items():  # warm the OS file cache once
            run_once(module, event, envs[name])
        for _ in range(args.runs):
            for name, module in VARIANTS.items():
                samples[name].append(run_once(module, event, envs[name]))
        profile = import_profile(base_env)
    finally:
        server.stop()

    summary = {}
    for name, runs in samples.items():
        summary[name] = {
            "import_ms": statistics.median(r["import_ms"] for r in runs),
            "first_202_ms": statistics.median(r["first_202_ms"] for r in runs),
        }
    ours = summary["taskport"]["first_202_ms"]
    print(f"cold start, median of {args.runs} fresh processes (import -> first 202)")
    print(f"{'variant':30} {'import ms':>10} {'first 202 ms':>13} {'taskport / it':>14}")
    for name, row in summary.items():
        print(
            f"{name:30} {row['import_ms']:10.1f} {row['first_202_ms']:13.1f} {ours / row['first_202_ms']:13.2f}x"
        )
    print("\nwhere taskport's import time goes (-X importtime, cumulative ms, top level):")
    for module, ms in profile:
        print(f"  {ms:7.1f}  {module}")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "coldstart.json").write_text(
        json.dumps({"runs": args.runs, "summary": summary, "import_profile": profile}, indent=2)
    )


if __name__ == "__main__":
    main()
