"""The local API child of ``taskport local``: the gateway and the schedule ticker.

Run as ``python -m infra.local.api_process --port N --key PATH``. The real Lambda handlers
are imported at start, so a broken handler fails the start loudly instead of the first call.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from infra.local import ticker as ticker_mod
from infra.local.authorizer import JwtAuthorizer
from infra.local.gateway import LocalApiGateway, make_server
from infra.local.tokens import SigningKey
from workers.contract.settings import CoreSettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="taskport-local-api")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--key", type=Path, required=True)
    parser.add_argument("--no-ticker", action="store_true")
    args = parser.parse_args(argv)

    from functions.api.handler import handler as api_handler

    key = SigningKey.load(args.key)
    authorizer = JwtAuthorizer(key.public_pem, CoreSettings.from_env().scope_prefix)
    server = make_server(LocalApiGateway(handler=api_handler, authorizer=authorizer), args.port)

    ticker = None
    if not args.no_ticker:
        from functions.scheduler.handler import handler as scheduler_handler

        ticks = ticker_mod.plan(override_seconds=ticker_mod.override_from_env())
        ticker = ticker_mod.Ticker(scheduler_handler, ticks)
        ticker.start()
        for tick in ticks:
            print(f"[ticker] {tick.name} every {tick.period_seconds:g}s", file=sys.stderr)

    def _stop(signum: int, frame: FrameType | None) -> None:
        # shutdown() blocks until serve_forever returns, so call it from another thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    print(f"[api] listening on http://127.0.0.1:{server.server_address[1]}", file=sys.stderr)
    sys.stderr.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        if ticker:
            ticker.stop()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
