"""Webhook deliveries/s and CPU per 1,000: one taskport notifications worker vs the seeds'
naive code, in the same run, against one local receiver that answers after 50 ms.

- taskport: ``celery -A workers.app worker -Q notifications`` with the catalog's pool and
  concurrency (gevent, 50), the real task (endpoint lookup, SSRF-checked connect, signing,
  per-endpoint cap, attempt record, effect ledger), endpoints in moto (DynamoDB + KMS);
  deliveries spread over 8 endpoints of the same receiver (default per-endpoint cap 8).
- naive: bench/naive_webhooks.py, a new httpx.Client per request, Celery defaults,
  prefork pool of 2.
- plain: bench/plain_webhooks.py, the usual fix of the naive code with nothing of
  taskport's: Celery + one shared httpx.Client per process, the same pool and concurrency.

Prints a table and writes bench/results/webhooks.json. Not run by `make test`.
Every phase is bounded; only the processes started here are stopped (by process group).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from infra.local.redis_server import RedisServer  # noqa: E402
from tests.support import notify_env  # noqa: E402
from workers import catalog  # noqa: E402
from workers.contract import message  # noqa: E402
from workers.contract import settings as names  # noqa: E402
from workers.contract.headers import TENANT_HEADER  # noqa: E402

RESULTS = ROOT / "bench" / "results"
TENANT = "bench"
ENDPOINTS = 8
RECEIVER_DELAY = 0.05
QUIET_START = ["--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO"]


def _tree(pid: int) -> list[int]:
    found = [pid]
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            for child in children.read_text().split():
                found.extend(_tree(int(child)))
    return found


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process and its live descendants."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in _tree(pid):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / ticks


class Worker:
    def __init__(self, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while " ready." not in log.read_text(errors="replace"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"worker did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


def wait_count(probe: Callable[[], int], target: int, timeout: float) -> float:
    start = time.monotonic()
    while probe() < target:
        if time.monotonic() - start > timeout:
            raise RuntimeError(f"only {probe()} of {target} deliveries within {timeout}s")
        time.sleep(0.01)
    return time.monotonic()


def worker_argv(
    app: str, queue: str, pool: str, concurrency: int, prefix: tuple[str, ...] = ()
) -> list[str]:
    """``celery worker`` for one queue, started quietly (no gossip, mingle, heartbeat)."""
    return [
        sys.executable,
        *prefix,
        "-m",
        "celery",
        "-A",
        app,
        "worker",
        "-Q",
        queue,
        "--pool",
        pool,
        "-c",
        str(concurrency),
        *QUIET_START,
    ]


def push_messages(
    client: Any,
    task: str,
    queue: str,
    count: int,
    kwargs_for: Callable[[int], dict[str, Any]],
    headers: dict[str, str],
) -> None:
    """``count`` prebuilt protocol-2 messages, one pipelined LPUSH each (not timed as work)."""
    pipe = client.pipeline(transaction=False)
    for i in range(count):
        envelope = message.build_envelope(
            task_name=task,
            task_id=message.new_task_id(),
            queue=queue,
            kwargs=kwargs_for(i),
            headers=headers,
        )
        pipe.lpush(message.queue_list_key(queue), envelope)
    pipe.execute()


def command_counts(client: Any) -> dict[str, int]:
    """Redis commands served so far, by name (INFO commandstats)."""
    stats = client.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(row["calls"]) for name, row in stats.items()}


def run_phase(
    name: str,
    worker: Worker,
    enqueue: Callable[[int], None],
    delivered: Callable[[], int],
    n: int,
    warmup: int,
    timeout: float,
    redis_client: Any,
) -> dict[str, Any]:
    """Warm up, then time ``n`` deliveries; the worker is stopped at the end either way."""
    try:
        base = delivered()
        enqueue(warmup)
        wait_count(delivered, base + warmup, timeout)
        base = delivered()
        cpu0 = cpu_seconds(worker.process.pid)
        commands0 = command_counts(redis_client)
        start = time.monotonic()
        enqueue(n)
        end = wait_count(delivered, base + n, timeout)
        cpu = cpu_seconds(worker.process.pid) - cpu0
        elapsed = end - start
        commands = command_counts(redis_client)
        per_delivery = {
            cmd: round((calls - commands0.get(cmd, 0)) / n, 2)
            for cmd, calls in sorted(commands.items())
            if cmd != "info" and calls - commands0.get(cmd, 0) >= n / 10
        }
    finally:
        worker.stop()
    return {
        "name": name,
        "deliveries": n,
        "seconds": round(elapsed, 3),
        "per_second": round(n / elapsed, 1),
        "cpu_s_per_1000": round(cpu / n * 1000, 3),
        # Includes the benchmark's own LPUSHes and the idle BRPOP wake-ups.
        "redis_commands_per_delivery": per_delivery,
    }


def plain_phase(
    env: dict[str, str],
    workdir: Path,
    client: Any,
    rec: notify_env.Receiver,
    args: argparse.Namespace,
    received: Callable[[], int],
) -> dict[str, Any]:
    from bench import plain_webhooks as plain

    spec = catalog.QUEUES[catalog.TASKS["notifications.send_webhook"].queue]
    argv = worker_argv("bench.plain_webhooks", plain.QUEUE, spec.pool, spec.concurrency)
    worker = Worker(argv, env, workdir / "plain.log")

    def enqueue_plain(count: int) -> None:
        push_messages(
            client,
            plain.TASK,
            plain.QUEUE,
            count,
            lambda i: {"url": rec.url(f"/plain/{i % ENDPOINTS}"), "payload": {"n": i}},
            {},
        )

    return run_phase(
        f"plain Celery + one shared httpx.Client ({spec.pool}, c={spec.concurrency})",
        worker,
        enqueue_plain,
        received,
        args.n,
        200,
        args.timeout,
        client,
    )


def naive_phase(
    env: dict[str, str],
    workdir: Path,
    url: str,
    rec: notify_env.Receiver,
    args: argparse.Namespace,
    received: Callable[[], int],
) -> dict[str, Any]:
    import redis

    from bench import naive_webhooks as naive_contender

    argv = worker_argv("bench.naive_webhooks", naive_contender.QUEUE, "prefork", 2)
    naive = Worker(argv, env, workdir / "naive.log")
    naive_app = naive_contender.app
    naive_app.conf.broker_url = url
    naive_app.conf.result_backend = url

    def enqueue_naive(count: int) -> None:
        for i in range(count):
            naive_app.send_task(
                naive_contender.TASK,
                args=(rec.url("/naive"), "s3cret", {"n": i}),
                queue=naive_contender.QUEUE,
            )

    return run_phase(
        "naive (new httpx.Client per request, prefork c=2)",
        naive,
        enqueue_naive,
        received,
        args.naive_n,
        20,
        args.timeout,
        redis.Redis.from_url(url, decode_responses=True),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=3000, help="taskport deliveries")
    parser.add_argument("--naive-n", type=int, default=300, help="naive deliveries")
    parser.add_argument("--timeout", type=float, default=180)
    parser.add_argument("--profile", help="write a cProfile of the taskport worker here")
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--skip-plain", action="store_true")
    parser.add_argument("--pool", help="override the catalog's pool (experiments)")
    parser.add_argument("--concurrency", type=int, help="override the catalog's concurrency")
    args = parser.parse_args()

    import redis

    workdir = Path(tempfile.mkdtemp(prefix="taskport-bench-"))
    server = RedisServer().start()
    rows: list[dict[str, Any]] = []
    try:
        with notify_env.moto_server() as moto, notify_env.receiver(RECEIVER_DELAY) as rec:
            url = f"redis://127.0.0.1:{server.port}/0"
            client = redis.Redis.from_url(url, decode_responses=True)
            env = {
                **os.environ,
                **notify_env.worker_env(moto),
                names.ENV_REDIS_URL: url,
                names.ENV_ALLOW_LOOPBACK_WEBHOOKS: "1",
                names.ENV_WEBHOOK_PORTS: f"80,443,{rec.port}",
                "PYTHONUNBUFFERED": "1",
            }
            undo = notify_env.set_process_env(env)
            try:
                from workers.contract import aws_clients, endpoint_store
                from workers.contract.notify_settings import notify_settings

                settings = notify_settings()
                endpoints = [
                    endpoint_store.create(
                        aws_clients.table(settings.table_name),
                        aws_clients.client("kms"),
                        settings.kms_key_id,
                        tenant=TENANT,
                        url=rec.url(f"/hook/{i}"),
                        description="bench",
                        event_types=(),
                    )[0].id
                    for i in range(ENDPOINTS)
                ]
            finally:
                undo()

            # ---- taskport: one notifications worker, the catalog's pool and concurrency.
            task = catalog.TASKS["notifications.send_webhook"]
            spec = catalog.QUEUES[task.queue]
            pool = args.pool or spec.pool
            concurrency = args.concurrency or spec.concurrency
            profile = ("-m", "cProfile", "-o", args.profile) if args.profile else ()
            argv = worker_argv("workers.app", task.queue, pool, concurrency, profile)
            worker = Worker(argv, env, workdir / "taskport.log")

            def enqueue_taskport(count: int) -> None:
                push_messages(
                    client,
                    task.name,
                    task.queue,
                    count,
                    lambda i: {
                        "endpoint_id": endpoints[i % ENDPOINTS],
                        "event_type": "bench.event",
                        "payload": {"n": i},
                    },
                    {TENANT_HEADER: TENANT},
                )

            def received() -> int:
                return len(rec.requests)

            rows.append(
                run_phase(
                    f"taskport ({pool}, c={concurrency}, 1 worker)",
                    worker,
                    enqueue_taskport,
                    received,
                    args.n,
                    200,
                    args.timeout,
                    client,
                )
            )

            # ---- naive: new httpx.Client per request, prefork pool of 2, Celery defaults.
            if not args.skip_naive:
                rows.append(
                    {"kind": "naive", **naive_phase(env, workdir, url, rec, args, received)}
                )
            # ---- plain: Celery + one shared httpx.Client, nothing of taskport's.
            if not args.skip_plain:
                rows.append(
                    {"kind": "plain", **plain_phase(env, workdir, client, rec, args, received)}
                )
    finally:
        server.stop()

    rate = {row.get("kind", "taskport"): row["per_second"] for row in rows}
    ratio = rate["taskport"] / rate["naive"] if "naive" in rate else 0.0
    of_plain = rate["taskport"] / rate["plain"] if "plain" in rate else 0.0
    print(f"\nwebhook deliveries against a receiver answering after {RECEIVER_DELAY * 1000:.0f} ms")
    print(f"{'contender':55} {'n':>6} {'deliv/s':>9} {'CPU s/1000':>11}")
    for row in rows:
        print(
            f"{row['name']:55} {row['deliveries']:>6} {row['per_second']:>9} "
            f"{row['cpu_s_per_1000']:>11}"
        )
    for row in rows:
        total = sum(row["redis_commands_per_delivery"].values())
        print(f"Redis commands per delivery, {row['name']}: {total:.1f}")
        print(f"  {row['redis_commands_per_delivery']}")
    print(f"taskport / naive: {ratio:.1f}x (goal >= 20x)")
    print(f"taskport / plain Celery + shared httpx.Client: {of_plain:.2f}x")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "webhooks.json"
    out.write_text(
        json.dumps(
            {
                "receiver_delay_s": RECEIVER_DELAY,
                "rows": rows,
                "ratio": round(ratio, 1),
                "of_plain": round(of_plain, 2),
                "cpus": os.cpu_count(),
            },
            indent=2,
        )
    )
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
