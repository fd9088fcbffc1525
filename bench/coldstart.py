"""Cold start: fresh process -> handler imported -> first 202, taskport vs a naive handler
and vs the floor (bench/floor_handler.py: only the libraries taskport must use).

Each run is a new Python process; the time is measured inside it from before the first
import to the first 202 (interpreter start-up is the same for both and excluded). Runs
alternate between variants so machine noise hits both alike. Prints medians, a profile
of where taskport's and the floor's time goes (-X importtime self time by package) and
writes bench/results/coldstart.json. Not run by `make test`.

Every variant's modules are compiled to bytecode first, as the Lambda asset ships them
(infra/bundle.py); nothing is written during the runs.
"""

from __future__ import annotations

import argparse
import compileall
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
c0 = time.process_time()
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
c2 = time.process_time()
assert result["statusCode"] == 202, result
print(json.dumps({{
    "import_ms": (t1 - t0) * 1e3, "first_202_ms": (t2 - t0) * 1e3, "cpu_ms": (c2 - c0) * 1e3,
}}))
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


PROFILED = ("taskport", "floor (mandated parts only)")
NOT_IMPORTS = "(not imports: validation, schemas, round trip)"
_MARK = "-- probe --"


def _group(module: str) -> str:
    """Where a module's time is counted: taskport by subpackage, libraries by package."""
    parts = module.split(".")
    if parts[0] in ("functions", "workers"):
        return ".".join(parts[:2])
    if parts[0] in sys.stdlib_module_names or parts[0].startswith("_"):
        return "(standard library)"
    return parts[0]


def import_profile(module: str, event: str, env: dict[str, str], runs: int) -> dict[str, float]:
    """Self time of each import (compile + run of the module) by package, from the probe's
    start to its first 202; the rest of that time is work that is not an import. Medians
    over ``runs``; -X importtime's own overhead inflates every figure a little."""
    code = f"import sys; sys.stderr.write({_MARK!r} + '\\n')\n" + PROBE.format(
        root=str(ROOT), module=module, event=event
    )
    per_run: list[dict[str, float]] = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", code],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        totals: dict[str, float] = {}
        for line in out.stderr.split(_MARK, 1)[1].splitlines():
            parts = line.split("|")
            self_us = parts[0].removeprefix("import time:").strip()
            if len(parts) == 3 and self_us.isdigit():
                group = _group(parts[2].strip())
                totals[group] = totals.get(group, 0.0) + int(self_us) / 1000
        first_202 = json.loads(out.stdout.strip().splitlines()[-1])["first_202_ms"]
        totals[NOT_IMPORTS] = first_202 - sum(totals.values())
        per_run.append(totals)
    groups = set().union(*per_run)
    return {g: statistics.median(r.get(g, 0.0) for r in per_run) for g in groups}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    for package in ("functions", "workers", "bench"):
        compileall.compile_dir(ROOT / package, quiet=1)
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
        profiles = {
            name: import_profile(VARIANTS[name], event, envs[name], runs=5) for name in PROFILED
        }
    finally:
        server.stop()

    summary = {}
    for name, runs in samples.items():
        summary[name] = {
            "import_ms": statistics.median(r["import_ms"] for r in runs),
            "first_202_ms": statistics.median(r["first_202_ms"] for r in runs),
            # CPU time of the same span: steadier than wall time on a noisy machine.
            "cpu_ms": statistics.median(r["cpu_ms"] for r in runs),
        }
    ours = summary["taskport"]
    print(f"cold start, median of {args.runs} fresh processes (import -> first 202)")
    print(
        f"{'variant':30} {'import ms':>10} {'first 202 ms':>13} {'taskport / it':>14}"
        f" {'CPU ms':>8} {'on CPU':>7}"
    )
    for name, row in summary.items():
        print(
            f"{name:30} {row['import_ms']:10.1f} {row['first_202_ms']:13.1f}"
            f" {ours['first_202_ms'] / row['first_202_ms']:13.2f}x"
            f" {row['cpu_ms']:8.1f} {ours['cpu_ms'] / row['cpu_ms']:6.2f}x"
        )
    ours_profile, floor_profile = (profiles[name] for name in PROFILED)
    rows = sorted(ours_profile.keys() | floor_profile.keys(), key=lambda g: -ours_profile.get(g, 0))
    print("\nwhere the first 202 goes (-X importtime self ms by package, median of 5):")
    print(f"  {'taskport':>8} {'floor':>8}  package")
    for group in rows:
        ours_ms, floor_ms = ours_profile.get(group, 0.0), floor_profile.get(group, 0.0)
        if max(ours_ms, floor_ms) >= 1.0:
            print(f"  {ours_ms:8.1f} {floor_ms:8.1f}  {group}")
    print(f"  {sum(ours_profile.values()):8.1f} {sum(floor_profile.values()):8.1f}  total")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "coldstart.json").write_text(
        json.dumps(
            {
                "runs": args.runs,
                "summary": summary,
                "import_profile": {
                    name: sorted(profiles[name].items(), key=lambda r: -r[1]) for name in PROFILED
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
