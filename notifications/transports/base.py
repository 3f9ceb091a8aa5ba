"""What every delivery channel implements (one module per channel)."""

from __future__ import annotations

from dataclasses import dataclass, field


class TransportError(Exception):
    """Sending failed; ``permanent`` says whether trying again could help."""

    def __init__(self, message: str, *, permanent: bool, retry_after: float | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class OutgoingMail:
    """A rendered mail, ready for the provider."""

    notification_id: int
    customer_id: int
    kind: str
    from_email: str
    to: list[str]
    cc: list[str]
    reply_to: list[str]
    subject: str
    body_text: str
    body_html: str
    headers: dict[str, str] = field(default_factory=dict)
    # Notifications left out while their case flapped that this mail lists: told once it is sent.
    lists_suppressed: tuple[int, ...] = ()
