"""`python -m mackerel_sim`: serve a simulated Mackerel until interrupted.

On start it prints one JSON line with the base URL and every organization's keys, so scripts
can read where to point their clients.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from mackerel_sim.scenarios import SCENARIOS
from mackerel_sim.simulator import Simulator


def _value(text: str) -> Any:
    """Scenario parameter values: JSON when they parse (numbers, true, null), else strings."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_scenario(spec: str) -> tuple[str, dict[str, Any]]:
    """`NAME` or `NAME:key=value,key=value`."""
    name, _, rest = spec.partition(":")
    params: dict[str, Any] = {}
    for pair in filter(None, rest.split(",")):
        key, sep, value = pair.partition("=")
        if not sep:
            raise argparse.ArgumentTypeError(f"scenario parameter {pair!r} is not key=value")
        params[key.strip().replace("-", "_")] = _value(value.strip())
    if name not in SCENARIOS:
        raise argparse.ArgumentTypeError(
            f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}"
        )
    return name, params


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mackerel_sim", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="port (0: any free port)")
    parser.add_argument(
        "--seed", default=None, help="makes IDs, keys, demo and scenarios reproducible"
    )
    parser.add_argument("--state", type=Path, help="load organizations from this JSON file")
    parser.add_argument("--save-state", type=Path, help="write the state here on exit")
    parser.add_argument(
        "--demo",
        metavar="ORG",
        nargs="+",
        default=[],
        help="build a demo world with these organizations",
    )
    parser.add_argument("--hosts-per-org", type=int, default=12)
    parser.add_argument(
        "--webhook-url", help="add a webhook channel with this URL to every organization"
    )
    parser.add_argument(
        "--scenario",
        action="extend",
        nargs="+",
        type=parse_scenario,
        default=[],
        metavar="NAME[:k=v,...]",
        help=f"run a scenario ({', '.join(SCENARIOS)})",
    )
    parser.add_argument(
        "--speed", type=float, default=1.0, help="simulated seconds per real second"
    )
    parser.add_argument(
        "--rate", type=float, default=None, help="webhooks per second (default: unlimited)"
    )
    parser.add_argument("--admin-token", default=None, help="require this token on /_sim")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    seed: int | str | None = args.seed
    if isinstance(seed, str) and seed.lstrip("-").isdigit():
        seed = int(seed)
    sim = Simulator(
        seed=seed, speed=args.speed, webhook_rate=args.rate, admin_token=args.admin_token
    )
    if args.state is not None:
        sim.load_state_file(args.state)
    if args.demo:
        sim.build_demo(args.demo, hosts_per_org=args.hosts_per_org)
    if args.webhook_url:
        for org in sim.organizations():
            sim.add_webhook_channel(org.name, args.webhook_url, name="Tairyo")
    from mackerel_sim.server import serve

    sim.start()
    server = serve(sim, host=args.host, port=args.port, quiet=not args.verbose)
    # Scenarios start before the line is printed, so whoever reads it already sees their runs.
    for name, params in args.scenario:
        sim.run_scenario(name, **params)
    print(
        json.dumps(
            {"url": server.url, "organizations": [o.to_json() for o in sim.organizations()]}
        ),
        flush=True,
    )
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        sim.close()
        if args.save_state is not None:
            sim.save_state(args.save_state)
    return 0


if __name__ == "__main__":
    sys.exit(main())
