"""The ``taskport`` command: local mode, tokens, and the task API from a shell.

Exit codes: 0 ok; 1 the watched task ended FAILURE or REVOKED; 2 usage; 3 the API said 4xx;
4 the API said 5xx or could not be reached.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any, Final
from urllib.parse import quote, urlsplit

from infra.local import state
from infra.local.api_client import (
    EXIT_OK,
    EXIT_SERVER_ERROR,
    EXIT_TASK_FAILED,
    EXIT_USAGE,
    ApiClient,
    ApiError,
)
from workers.contract.headers import IDEMPOTENCY_HEADER
from workers.contract.settings import ENV_AWS_ENDPOINT_URL

ENV_API_URL: Final = "TASKPORT_API_URL"
ENV_TOKEN: Final = "TASKPORT_TOKEN"  # noqa: S105 - a variable name


class UsageError(Exception):
    pass


def parse_arg(item: str) -> tuple[str, Any]:
    """``k=v``; the value is JSON when it parses as JSON (``n=3``, ``flag=true``), else text."""
    key, sep, raw = item.partition("=")
    if not sep or not key:
        raise UsageError(f"--arg expects key=value, got {item!r}")
    try:
        return key, json.loads(raw)
    except ValueError:
        return key, raw


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, sort_keys=False))


def _api_url(args: argparse.Namespace) -> str:
    if getattr(args, "api_url", None):
        return str(args.api_url)
    if os.environ.get(ENV_API_URL):
        return os.environ[ENV_API_URL]
    running = state.read_state()
    return running.url if running else state.DEFAULT_API_URL


def _is_local(url: str) -> bool:
    return urlsplit(url).hostname in ("127.0.0.1", "localhost", "::1")


def _token(args: argparse.Namespace, url: str) -> str | None:
    if getattr(args, "token", None):
        return str(args.token)
    if os.environ.get(ENV_TOKEN):
        return os.environ[ENV_TOKEN]
    if not _is_local(url):
        return None
    from infra.local import tokens

    try:
        return tokens.mint(tokens.SigningKey.load(tokens.key_path()))
    except tokens.NoSigningKeyError:
        return None


def _client(args: argparse.Namespace) -> ApiClient:
    url = _api_url(args)
    return ApiClient(url, _token(args, url))


# ---- commands ----


def cmd_local(args: argparse.Namespace) -> int:
    from infra.local.supervisor import run_local

    return run_local()


def cmd_token(args: argparse.Namespace) -> int:
    from infra.local import tokens
    from workers.contract import scopes

    try:
        key = tokens.SigningKey.load(tokens.key_path())
    except tokens.NoSigningKeyError as exc:
        print(f"taskport token: {exc}", file=sys.stderr)
        return EXIT_USAGE
    chosen = args.scope or list(scopes.ALL)
    print(tokens.mint(key, tenant=args.tenant, scope_names=chosen, ttl_seconds=args.ttl))
    return EXIT_OK


def _watch(client: ApiClient, task_id: str, timeout: float | None, interval: float = 0.5) -> int:
    from infra.local.progress import follow

    path = f"/v1/tasks/{quote(task_id, safe='')}"
    try:
        task = follow(
            lambda: client.request("GET", path),
            sys.stderr,
            interactive=sys.stderr.isatty(),
            timeout=timeout,
            interval=interval,
        )
    except TimeoutError as exc:
        print(f"taskport watch: {exc}", file=sys.stderr)
        return EXIT_SERVER_ERROR
    _print_json(task)
    return EXIT_OK if task.get("state") == "SUCCESS" else EXIT_TASK_FAILED


def cmd_submit(args: argparse.Namespace) -> int:
    if args.json is not None and args.arg:
        raise UsageError("use either --arg or --json, not both")
    if args.json is not None:
        try:
            task_args = json.loads(args.json)
        except ValueError as exc:
            raise UsageError(f"--json is not valid JSON: {exc}") from None
        if not isinstance(task_args, dict):
            raise UsageError("--json must be a JSON object")
    else:
        task_args = dict(parse_arg(a) for a in args.arg)
    body: dict[str, Any] = {"task": args.task, "args": task_args}
    if args.countdown is not None:
        body["countdown"] = args.countdown
    headers = {IDEMPOTENCY_HEADER: args.idempotency_key} if args.idempotency_key else None
    client = _client(args)
    submitted = client.request("POST", "/v1/tasks", json_body=body, headers=headers)
    if not args.watch:
        _print_json(submitted)
        return EXIT_OK
    print(f"submitted {submitted['id']}", file=sys.stderr)
    return _watch(client, str(submitted["id"]), args.timeout)


def cmd_status(args: argparse.Namespace) -> int:
    _print_json(_client(args).request("GET", f"/v1/tasks/{quote(args.id, safe='')}"))
    return EXIT_OK


def cmd_watch(args: argparse.Namespace) -> int:
    return _watch(_client(args), args.id, args.timeout, args.interval)


def cmd_cancel(args: argparse.Namespace) -> int:
    _print_json(_client(args).request("POST", f"/v1/tasks/{quote(args.id, safe='')}/cancel"))
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    params = {k: v for k, v in (("state", args.state), ("task", args.task)) if v}
    _print_json(_client(args).request("GET", "/v1/tasks", params=params or None))
    return EXIT_OK


def cmd_catalog(args: argparse.Namespace) -> int:
    catalog = _client(args).request("GET", "/v1/catalog")
    if args.json:
        _print_json(catalog)
        return EXIT_OK
    entries = catalog.get("tasks", catalog) if isinstance(catalog, dict) else catalog
    for entry in entries or []:
        name = entry.get("name", "?")
        print(f"{name:<28} queue={entry.get('queue', '?'):<14} {entry.get('description', '')}")
        for schedule in entry.get("schedules") or []:
            label = schedule.get("name", "?") if isinstance(schedule, dict) else schedule
            expression = schedule.get("expression", "") if isinstance(schedule, dict) else ""
            print(f"{'':<4}schedule {label} {expression}")
    return EXIT_OK


def cmd_fire(args: argparse.Namespace) -> int:
    path = f"/v1/schedules/{quote(args.schedule, safe='')}/fire"
    _print_json(_client(args).request("POST", path))
    return EXIT_OK


def cmd_outbox(args: argparse.Namespace) -> int:
    from infra.local import outbox

    moto_url = args.moto_url
    if not moto_url:
        running = state.read_state()
        moto_url = running.moto_url if running else os.environ.get(ENV_AWS_ENDPOINT_URL)
    if not moto_url:
        raise UsageError("no running local mode found: start `taskport local` or pass --moto-url")
    try:
        emails = outbox.fetch(moto_url)
    except Exception as exc:  # httpx errors: the moto server is gone
        raise ApiError(0, f"cannot read moto's outbox at {moto_url}: {exc}") from None
    if args.json:
        _print_json([e.__dict__ for e in emails])
        return EXIT_OK
    if not emails:
        print("(no emails sent)")
    for email in emails:
        to = ", ".join(
            a for key in ("ToAddresses", "CcAddresses", "BccAddresses")
            for a in email.destinations.get(key) or []
        )  # fmt: skip
        print(f"--- {email.message_id}\nFrom: {email.source}\nTo: {to}")
        print(f"Subject: {email.subject}\n\n{email.body}\n")
    return EXIT_OK


# ---- parser ----


def build_parser() -> argparse.ArgumentParser:
    # The connection options work before or after the subcommand (SUPPRESS keeps the
    # subcommand's absent option from overwriting the main parser's value).
    conn = argparse.ArgumentParser(add_help=False)
    conn.add_argument(
        "--api-url",
        default=argparse.SUPPRESS,
        help=f"API base URL (default: ${ENV_API_URL}, the running local mode, "
        f"else {state.DEFAULT_API_URL})",
    )
    conn.add_argument(
        "--token",
        default=argparse.SUPPRESS,
        help=f"bearer token (default: ${ENV_TOKEN}, else a fresh local token)",
    )
    parser = argparse.ArgumentParser(
        prog="taskport",
        description="taskport: Celery background work, serverless. Local mode and API client.",
        parents=[conn],
        epilog="exit codes: 0 ok, 1 task FAILURE/REVOKED (watch), 2 usage, 3 HTTP 4xx, "
        "4 HTTP 5xx or API unreachable",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("local", help="start the whole system on this machine (make run)")
    p.set_defaults(func=cmd_local)

    p = sub.add_parser("token", help="print a local dev token (only the token)")
    p.add_argument("--tenant", default="local")
    p.add_argument(
        "--scope", action="append", help="scope (repeatable; default: all), e.g. tasks:read"
    )
    p.add_argument("--ttl", type=int, default=12 * 3600, help="lifetime in seconds")
    p.set_defaults(func=cmd_token)

    p = sub.add_parser("submit", parents=[conn], help="submit a task")
    p.add_argument("task", help="catalog name, e.g. diagnostics.echo")
    p.add_argument("--arg", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--json", metavar="OBJECT", help="all args as one JSON object")
    p.add_argument("--countdown", type=float)
    p.add_argument("--idempotency-key")
    p.add_argument("--watch", action="store_true", help="follow it until it finishes")
    p.add_argument("--timeout", type=float, help="with --watch: give up after this many s")
    p.set_defaults(func=cmd_submit)

    p = sub.add_parser("status", parents=[conn], help="a task's state, progress and result")
    p.add_argument("id")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("watch", parents=[conn], help="follow a task until a final state")
    p.add_argument("id")
    p.add_argument("--timeout", type=float)
    p.add_argument("--interval", type=float, default=0.5, help="seconds between polls")
    p.set_defaults(func=cmd_watch)

    p = sub.add_parser("cancel", parents=[conn], help="cancel a task")
    p.add_argument("id")
    p.set_defaults(func=cmd_cancel)

    p = sub.add_parser("list", parents=[conn], help="your recent tasks")
    p.add_argument("--state")
    p.add_argument("--task")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("catalog", parents=[conn], help="submittable tasks and schedules")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_catalog)

    p = sub.add_parser("fire", parents=[conn], help="fire a catalog schedule now (admin)")
    p.add_argument("schedule")
    p.set_defaults(func=cmd_fire)

    p = sub.add_parser("outbox", help="emails sent in local mode (from moto's SES)")
    p.add_argument("--moto-url")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_outbox)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except UsageError as exc:
        parser.print_usage(sys.stderr)
        print(f"taskport: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ApiError as exc:
        print(f"taskport {args.command}: {exc}", file=sys.stderr)
        if exc.status == 401 and not getattr(args, "token", None):
            print(
                "hint: is `taskport local` running (from this checkout)? "
                f"Else pass --token or set ${ENV_TOKEN}.",
                file=sys.stderr,
            )
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
