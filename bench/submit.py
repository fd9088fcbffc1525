"""Submissions/s and latency: taskport's API handler vs a plain Celery send_task loop.

All three run in this process against one real redis-server, in the same run:
- taskport: the real API Lambda handler (validation, owner record, indexes, enqueue);
- celery send_task with a Redis result backend configured (the seeds' set-up);
- celery send_task without a result backend.
Prints a table and writes bench/results/submit.json. Not run by `make test`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from infra.local.redis_server import RedisServer  # noqa: E402


def measure(
    name: str, call: Callable[[int], None], n: int, warmup: int = 200
) -> dict[str, float | str]:
    for i in range(warmup):
        call(i)
    latencies = []
    start = time.perf_counter()
    cpu0 = time.process_time()
    for i in range(n):
        t0 = time.perf_counter()
        call(i)
        latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu0
    latencies.sort()
    return {
        "name": name,
        "n": n,
        "per_second": n / elapsed,
        "p50_us": statistics.median(latencies) * 1e6,
        "p99_us": latencies[int(n * 0.99) - 1] * 1e6,
        "cpu_us_per_call": cpu / n * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=5000)
    args = parser.parse_args()

    server = RedisServer().start()
    os.environ["REDIS_URL"] = server.url
    try:
        import redis
        from celery import Celery

        from functions.api.handler import handler
        from tests.functional.conftest import ApiClient, LambdaContext

        flush = redis.Redis.from_url(server.url)
        event = ApiClient().event(
            "POST", "/v1/tasks", body={"task": "diagnostics.echo", "args": {"message": "hello"}}
        )
        context = LambdaContext()

        def taskport(_: int) -> None:
            result = handler(dict(event), context)
            assert result["statusCode"] == 202, result

        with_backend = Celery("b1", broker=server.url, backend=server.url)
        without_backend = Celery("b2", broker=server.url)
        for app in (with_backend, without_backend):
            app.conf.task_serializer = "json"

        def celery_call(app: Celery) -> Callable[[int], None]:
            def call(_: int) -> None:
                app.send_task(
                    "diagnostics.echo",
                    kwargs={"message": "hello"},
                    queue="default",
                    headers={"tenant": "t"},
                )

            return call

        rows = []
        for name, call in (
            ("taskport API handler", taskport),
            ("celery send_task + result backend", celery_call(with_backend)),
            ("celery send_task, no backend", celery_call(without_backend)),
        ):
            flush.flushall()
            rows.append(measure(name, call, args.n))
        flush.flushall()
    finally:
        server.stop()

    base = rows[1]["per_second"]
    print(
        f"{'variant':38} {'submits/s':>10} {'p50 µs':>8} {'p99 µs':>8} {'cpu µs':>8} {'vs backend':>10}"
    )
    for row in rows:
        ratio = float(row["per_second"]) / float(base)
        row["vs_send_task_with_backend"] = ratio
        print(
            f"{row['name']:38} {row['per_second']:10.0f} {row['p50_us']:8.0f} {row['p99_us']:8.0f}"
            f" {row['cpu_us_per_call']:8.0f} {ratio:9.2f}x"
        )
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "submit.json").write_text(json.dumps({"n": args.n, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
