"""Mail through anymail: the provider is chosen by settings alone (EMAIL_BACKEND, ANYMAIL)."""

from __future__ import annotations

import requests
from anymail.exceptions import (
    AnymailAPIError,
    AnymailInvalidAddress,
    AnymailRecipientsRefused,
    AnymailUnsupportedFeature,
)
from django.core.mail import EmailMultiAlternatives

from notifications.transports.base import OutgoingMail, TransportError


def send(mail: OutgoingMail) -> str:
    """Hand ``mail`` to the provider; the provider's message ID, or TransportError."""
    message = EmailMultiAlternatives(
        subject=mail.subject,
        body=mail.body_text,
        from_email=mail.from_email,
        to=mail.to,
        cc=mail.cc,
        reply_to=mail.reply_to,
        headers=mail.headers,
    )
    if mail.body_html:
        message.attach_alternative(mail.body_html, "text/html")
    # Delivery events come back carrying these, so they find their notification again.
    message.metadata = {  # type: ignore[attr-defined]
        "notification_id": str(mail.notification_id),
        "customer_id": str(mail.customer_id),
    }
    message.tags = [f"tairyo-{mail.kind}"]  # type: ignore[attr-defined]
    try:
        message.send()
    except (AnymailRecipientsRefused, AnymailInvalidAddress, AnymailUnsupportedFeature) as exc:
        raise TransportError(f"{type(exc).__name__}: {exc}", permanent=True) from exc
    except AnymailAPIError as exc:
        raise _classify(exc) from exc
    except (requests.RequestException, OSError) as exc:
        raise TransportError(f"{type(exc).__name__}: {exc}", permanent=False) from exc
    status = getattr(message, "anymail_status", None)
    message_id = getattr(status, "message_id", None)
    return message_id if isinstance(message_id, str) else ""


def _classify(exc: AnymailAPIError) -> TransportError:
    status = exc.status_code
    text = f"provider answered {status}: {exc.describe_response() or exc}"[:2000]
    if status is None or status >= 500:
        return TransportError(text, permanent=False)
    if status == 429:
        retry_after = None
        if exc.response is not None:
            try:
                retry_after = float(exc.response.headers.get("Retry-After", ""))
            except ValueError:
                retry_after = None
        return TransportError(text, permanent=False, retry_after=retry_after)
    return TransportError(text, permanent=True)
