"""A stand-in for the mail provider's HTTP send API, as django-anymail's backends call it.

Mailgun (`POST /v3/<domain>/messages`) and SendGrid v3 (`POST /v3/mail/send`), with recorded
messages, injectable faults and signed delivery events posted back to anymail's tracking
webhooks. Standard library only: no Django, no Tairyo imports. See docs/mail-simulator.md.
"""

from __future__ import annotations

from mail_sim.faults import Fault
from mail_sim.server import ServerHandle
from mail_sim.simulator import DEFAULT_MAILGUN_API_KEY, DEFAULT_SENDGRID_API_KEY, MailSimulator
from mail_sim.store import Attachment, ReceivedMessage
from mail_sim.tracking import EVENTS, EventDelivery

__all__ = [
    "DEFAULT_MAILGUN_API_KEY",
    "DEFAULT_SENDGRID_API_KEY",
    "EVENTS",
    "Attachment",
    "EventDelivery",
    "Fault",
    "MailSimulator",
    "ReceivedMessage",
    "ServerHandle",
]
