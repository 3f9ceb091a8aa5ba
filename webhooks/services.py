"""Making subscriptions and rotating their secrets; secrets are shown once, stored encrypted."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Customer
from orgs import encryption
from webhooks import signing, ssrf
from webhooks.models import EventType, Subscription

CASE_EVENTS = [EventType.OPENED, EventType.UPDATED, EventType.CLOSED]


def check_url(url: str) -> None:
    """A ValidationError if Tairyo would refuse to send to ``url``."""
    try:
        ssrf.resolve(url)
    except ssrf.RefusedDestination as refused:
        raise ValidationError(str(refused), code="refused_destination") from None


def check_events(events: list[str]) -> None:
    unknown = set(events) - set(CASE_EVENTS)
    if unknown or not events:
        raise ValidationError(f"choose among {', '.join(CASE_EVENTS)}", code="invalid_events")


def set_new_secret(subscription: Subscription) -> str:
    """Give an unsaved subscription its secret; the plain secret is returned to be shown once."""
    secret = signing.new_secret()
    subscription.secret_encrypted = encryption.encrypt(secret)
    return secret


def create(
    customer: Customer, url: str, events: list[str], description: str = ""
) -> tuple[Subscription, str]:
    check_url(url)
    check_events(events)
    subscription = Subscription(
        customer=customer, url=url, events=list(events), description=description
    )
    secret = set_new_secret(subscription)
    subscription.save()
    return subscription, secret


def rotate_secret(subscription: Subscription, grace: timedelta = timedelta(hours=24)) -> str:
    """A new secret; the old one keeps signing (a second signature) for ``grace``."""
    subscription.previous_secret_encrypted = subscription.secret_encrypted
    subscription.previous_secret_valid_until = timezone.now() + grace
    secret = set_new_secret(subscription)
    subscription.save(
        update_fields=[
            "secret_encrypted",
            "previous_secret_encrypted",
            "previous_secret_valid_until",
        ]
    )
    return secret


def update(subscription: Subscription, changes: dict[str, Any]) -> Subscription:
    """Change a subscription; turning it back on clears its failure record."""
    if "url" in changes:
        check_url(changes["url"])
    if "events" in changes:
        check_events(changes["events"])
    for name in ("url", "description", "events", "is_active"):
        if name in changes:
            setattr(subscription, name, changes[name])
    if changes.get("is_active"):
        subscription.disabled_reason = ""
        subscription.failing_since = None
    subscription.save()
    return subscription
