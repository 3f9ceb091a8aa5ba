"""`python -m mail_sim`: run the simulator in the foreground and print what it receives."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from mail_sim.simulator import DEFAULT_MAILGUN_API_KEY, DEFAULT_SENDGRID_API_KEY, MailSimulator
from mail_sim.store import ReceivedMessage
from mail_sim.tracking import EventDelivery, TrackingConfig


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    sim = MailSimulator(
        mailgun_api_key=None if args.any_key else args.mailgun_key,
        sendgrid_api_key=None if args.any_key else args.sendgrid_key,
        mailgun_domains=args.mailgun_domain or None,
        on_message=None if args.quiet else _print_message,
        on_event=None if args.quiet else _print_event,
    )
    if args.tracking_url or args.mailgun_tracking_url or args.sendgrid_tracking_url:
        sim.configure_tracking(
            args.tracking_url,
            mailgun_url=args.mailgun_tracking_url,
            sendgrid_url=args.sendgrid_tracking_url,
            mailgun_signing_key=args.mailgun_signing_key,
            basic_auth=args.webhook_secret,
            bounce_pattern=args.bounce_pattern,
            delay=args.event_delay,
        )
    server = sim.serve(host=args.host, port=args.port, verbose=args.verbose)
    print(f"mail simulator on {server.url}", flush=True)
    print(f"  ANYMAIL MAILGUN_API_URL / SENDGRID_API_URL = {server.url}/v3/", flush=True)
    print(f"  admin API: {server.url}/_sim/messages, /_sim/faults, /_sim/events", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mail_sim", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--mailgun-key", default=DEFAULT_MAILGUN_API_KEY)
    parser.add_argument("--sendgrid-key", default=DEFAULT_SENDGRID_API_KEY)
    parser.add_argument("--any-key", action="store_true", help="accept any API key")
    parser.add_argument(
        "--mailgun-domain", action="append", help="known sending domain (repeat); default: any"
    )
    parser.add_argument("--tracking-url", help="anymail tracking webhook for both providers")
    parser.add_argument("--mailgun-tracking-url")
    parser.add_argument("--sendgrid-tracking-url")
    parser.add_argument("--mailgun-signing-key", help="default: the Mailgun API key")
    parser.add_argument("--webhook-secret", help="anymail WEBHOOK_SECRET, user:pass")
    parser.add_argument("--bounce-pattern", help="e.g. '*@bounce.invalid'")
    parser.add_argument(
        "--event-delay", type=float, default=TrackingConfig.delay, help="seconds before events"
    )
    parser.add_argument("--quiet", action="store_true", help="print nothing per message")
    parser.add_argument("--verbose", action="store_true", help="log every HTTP request")
    return parser


def _print_message(message: ReceivedMessage) -> None:
    print(
        f"{message.received_at:%H:%M:%S} {message.provider} {message.message_id}\n"
        f"  from {message.from_email} to {', '.join(message.recipients)}\n"
        f"  subject {message.subject!r}  metadata {message.metadata}  tags {message.tags}",
        flush=True,
    )


def _print_event(delivery: EventDelivery) -> None:
    outcome = delivery.status if delivery.status is not None else delivery.error
    print(
        f"  -> {delivery.post.event} {', '.join(delivery.post.recipients)} "
        f"posted to {delivery.url}: {outcome}",
        flush=True,
    )


if __name__ == "__main__":
    main()
