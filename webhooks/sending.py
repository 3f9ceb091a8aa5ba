"""Sending one delivery: claim, sign, post to the checked address, record, retry or give up."""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta

import httpx
from django.conf import settings
from django.core.mail import send_mail
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from orgs import encryption
from webhooks import signing, ssrf
from webhooks.models import Attempt, Delivery, Subscription

logger = logging.getLogger(__name__)

# Waits after each failed attempt: about 24 hours in all, then the delivery is failed (it can
# still be replayed by hand).
BACKOFF = [
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=2),
    timedelta(hours=4),
    timedelta(hours=8),
    timedelta(hours=8),
]
MAX_ATTEMPTS = len(BACKOFF) + 1
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
RESPONSE_KEPT = 2000  # characters of a response body kept in the log


def secrets_in_force(subscription: Subscription) -> list[str]:
    current = [encryption.decrypt(subscription.secret_encrypted)]
    valid_until = subscription.previous_secret_valid_until
    if subscription.previous_secret_encrypted and valid_until and valid_until > timezone.now():
        current.append(encryption.decrypt(subscription.previous_secret_encrypted))
    return current


def deliver(delivery_id: int) -> None:
    """Attempt one due delivery, if no other worker has claimed it."""
    now = timezone.now()
    claimed = Delivery.objects.filter(
        pk=delivery_id, status=Delivery.Status.PENDING, next_attempt_at__lte=now
    ).update(status=Delivery.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if claimed != 1:
        return
    delivery = Delivery.objects.select_related("subscription").get(pk=delivery_id)
    subscription = delivery.subscription
    if not subscription.is_active:
        _finish(delivery, Delivery.Status.FAILED, None, "subscription disabled")
        return
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    headers = signing.headers(
        secrets_in_force(subscription), delivery.event_id, int(time.time()), body
    )
    headers |= {"content-type": "application/json", "user-agent": "Tairyo-Webhooks/1"}
    started = time.monotonic()
    status_code: int | None = None
    error = ""
    response_body = ""
    permanent = False
    try:
        target = ssrf.resolve(subscription.url)
        with httpx.Client(timeout=TIMEOUT, follow_redirects=False, trust_env=False) as client:
            response = client.post(
                target.url,
                content=body,
                headers={**headers, "host": _host_header(target)},
                extensions={"sni_hostname": target.host},
            )
        status_code = response.status_code
        response_body = response.text[:RESPONSE_KEPT]
    except ssrf.RefusedDestination as refused:
        error, permanent = f"refused: {refused}", True
    except httpx.HTTPError as failure:
        error = f"{type(failure).__name__}: {failure}"[:RESPONSE_KEPT]
    Attempt.objects.create(
        customer_id=delivery.customer_id,
        delivery=delivery,
        status_code=status_code,
        error=error,
        response_body=response_body,
        duration_ms=int((time.monotonic() - started) * 1000),
    )
    if status_code is not None and 200 <= status_code < 300:
        _finish(delivery, Delivery.Status.SUCCEEDED, status_code, "")
        Subscription.objects.filter(pk=subscription.pk).update(failing_since=None)
        return
    error = error or f"HTTP {status_code}"
    if status_code == 410:
        # "Gone": the receiver says this URL will never take deliveries again.
        _finish(delivery, Delivery.Status.FAILED, status_code, error)
        disable(subscription, "the receiver answered 410 Gone")
        return
    if permanent or delivery.attempts >= MAX_ATTEMPTS:
        _finish(delivery, Delivery.Status.FAILED, status_code, error)
    else:
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.PENDING,
            next_attempt_at=timezone.now() + BACKOFF[delivery.attempts - 1],
            last_status_code=status_code,
            last_error=error,
        )
    _note_failure(subscription)


def _host_header(target: ssrf.Target) -> str:
    default = 443 if target.scheme == "https" else 80
    return target.host if target.port == default else f"{target.host}:{target.port}"


def _finish(delivery: Delivery, status: str, status_code: int | None, error: str) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(
        status=status,
        last_status_code=status_code,
        last_error=error,
        delivered_at=timezone.now() if status == Delivery.Status.SUCCEEDED else None,
    )


def _note_failure(subscription: Subscription) -> None:
    now = timezone.now()
    Subscription.objects.filter(pk=subscription.pk, failing_since=None).update(failing_since=now)
    subscription.refresh_from_db(fields=["failing_since", "is_active"])
    limit = timedelta(hours=settings.TAIRYO_WEBHOOK_DISABLE_AFTER_HOURS)
    if (
        subscription.is_active
        and subscription.failing_since
        and now - subscription.failing_since > limit
    ):
        disable(subscription, f"every delivery failed for more than {limit}")


def disable(subscription: Subscription, reason: str) -> None:
    """Stop sending to a subscription and tell staff; its deliveries stay for replay."""
    changed = Subscription.objects.filter(pk=subscription.pk, is_active=True).update(
        is_active=False, disabled_reason=reason
    )
    if not changed:
        return
    logger.error("webhook subscription %s disabled: %s", subscription.pk, reason)
    staff = list(User.objects.filter(is_staff=True, is_active=True).values_list("email", flat=True))
    if staff:
        send_mail(
            f"[Tairyo] webhook subscription disabled: {subscription.url}",
            f"Customer: {subscription.customer}\nURL: {subscription.url}\nWhy: {reason}\n\n"
            "Deliveries are kept; re-enable the subscription and replay them in the admin.",
            None,
            staff,
            fail_silently=True,
        )


def replay(delivery: Delivery) -> None:
    """Send a delivery again, with the same event ID, as soon as a worker is free."""
    Delivery.objects.filter(pk=delivery.pk).exclude(status=Delivery.Status.SENDING).update(
        status=Delivery.Status.PENDING, next_attempt_at=timezone.now(), attempts=0
    )


def due(limit: int = 500) -> list[int]:
    """Deliveries waiting for an attempt; 'sending' ones a dead worker left are given back."""
    stale = timezone.now() - timedelta(minutes=10)
    Delivery.objects.filter(status=Delivery.Status.SENDING, claimed_at__lt=stale).update(
        status=Delivery.Status.PENDING
    )
    return list(
        Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
