"""What the simulator received: one `ReceivedMessage` per accepted send call, kept in memory."""

from __future__ import annotations

import base64
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import getaddresses
from typing import Any

_LINK = re.compile(r"https?://[^\s\"'<>]+")


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message (Mailgun `attachment`/`inline` part, SendGrid `attachments`)."""

    filename: str
    content_type: str
    content: bytes
    inline: bool = False
    content_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "content_type": self.content_type,
            "size": len(self.content),
            "inline": self.inline,
            "content_id": self.content_id,
            "content_base64": base64.b64encode(self.content).decode("ascii"),
        }


@dataclass
class ReceivedMessage:
    """One message the provider accepted, normalized across Mailgun and SendGrid.

    Addresses are kept as sent (`"Alice <alice@example.com>"`); `recipients` gives bare addresses.
    `message_id` is the provider's id; `recipient_message_ids` maps each recipient to the id anymail
    reports in `anymail_status` and in tracking events (for SendGrid, anymail's own `anymail_id`).
    """

    provider: str
    message_id: str
    from_email: str
    to: list[str]
    cc: list[str]
    bcc: list[str]
    reply_to: list[str]
    subject: str
    text: str | None
    html: str | None
    headers: dict[str, str]
    metadata: dict[str, Any]
    tags: list[str]
    received_at: datetime
    recipient_message_ids: dict[str, str]
    # Per-recipient metadata of batch sends (Mailgun recipient-variables, SendGrid
    # personalization custom_args), already merged over `metadata`.
    recipient_metadata: dict[str, dict[str, Any]] = field(default_factory=dict)
    attachments: list[Attachment] = field(default_factory=list)
    # Provider options that have no common field: Mailgun `o:*`, SendGrid tracking_settings...
    options: dict[str, Any] = field(default_factory=dict)
    domain: str | None = None
    # The request as received: Mailgun form fields (name -> values), SendGrid JSON body.
    raw: Any = None

    @property
    def recipients(self) -> list[str]:
        """Bare addresses of every to, cc and bcc recipient, in that order."""
        return [addr for _, addr in getaddresses(self.to + self.cc + self.bcc) if addr]

    def metadata_for(self, recipient: str) -> dict[str, Any]:
        return self.recipient_metadata.get(recipient.lower(), self.metadata)

    def message_id_for(self, recipient: str) -> str:
        return self.recipient_message_ids.get(recipient.lower(), self.message_id)

    def first_link(self) -> str:
        """The URL a simulated click follows: the first link in the body."""
        found = _LINK.search((self.html or "") + (self.text or ""))
        return found.group(0) if found else "https://example.invalid/"

    def has_id(self, message_id: str) -> bool:
        return message_id == self.message_id or message_id in self.recipient_message_ids.values()

    def as_json(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "message_id": self.message_id,
            "domain": self.domain,
            "from_email": self.from_email,
            "to": self.to,
            "cc": self.cc,
            "bcc": self.bcc,
            "reply_to": self.reply_to,
            "subject": self.subject,
            "text": self.text,
            "html": self.html,
            "headers": self.headers,
            "metadata": self.metadata,
            "recipient_metadata": self.recipient_metadata,
            "tags": self.tags,
            "received_at": self.received_at.isoformat(),
            "recipient_message_ids": self.recipient_message_ids,
            "attachments": [attachment.as_json() for attachment in self.attachments],
            "options": self.options,
        }


class MessageStore:
    """Thread-safe list of received messages; request threads append, tests read and wait."""

    def __init__(self) -> None:
        self._messages: list[ReceivedMessage] = []
        self._changed = threading.Condition()

    def add(self, message: ReceivedMessage) -> None:
        with self._changed:
            self._messages.append(message)
            self._changed.notify_all()

    def all(self) -> list[ReceivedMessage]:
        with self._changed:
            return list(self._messages)

    def clear(self) -> None:
        with self._changed:
            self._messages.clear()

    def find(self, message_id: str) -> ReceivedMessage | None:
        with self._changed:
            return next((m for m in self._messages if m.has_id(message_id)), None)

    def wait_for(
        self, predicate: Callable[[list[ReceivedMessage]], bool], timeout: float
    ) -> list[ReceivedMessage]:
        """Block until `predicate(messages)` holds; raise TimeoutError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self._messages):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"mail simulator: condition not met within {timeout}s "
                        f"({len(self._messages)} messages received)"
                    )
                self._changed.wait(remaining)
            return list(self._messages)
