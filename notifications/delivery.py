"""Handing notifications to the mail provider exactly once, and what the provider reports back."""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from notifications import composing
from notifications.models import Contact, DeliveryEvent, Notification
from notifications.transports import email
from notifications.transports.base import TransportError
from portal import logcontext

logger = logging.getLogger(__name__)


def stuck_after() -> timedelta:
    """How long a row may stay "sending" before it is taken for a dead worker's.

    A live send holds its row for composing plus one provider call, which anymail bounds (3.05 s
    to connect, EMAIL_TIMEOUT per read), and Celery kills a prefork child that runs past
    CELERY_TASK_TIME_LIMIT; a send that composed too slowly finds its claim taken and stops
    (``deliver``). Past the longer of these, with a margin, nobody is sending it any more. It
    used to be ten minutes, which kept a SIGKILLed worker's mails past design.md's five minutes
    for draining the backlog after a fault.
    """
    live = max(settings.CELERY_TASK_TIME_LIMIT, 4 * settings.EMAIL_TIMEOUT)
    return timedelta(seconds=live + 30)


def backoff(attempts: int) -> timedelta:
    """30 s, 60 s, 120 s ... capped at 10 minutes, with jitter so retries do not march together."""
    base = min(settings.TAIRYO_MAIL_RETRY_SECONDS * 2 ** max(attempts - 1, 0), 600)
    return timedelta(seconds=base * random.uniform(0.8, 1.2))  # noqa: S311


def deliver(notification_id: int) -> timedelta | None:
    """Send one notification if it is due and nobody else is sending it.

    The claim is a conditional update from pending to sending that must change exactly one row:
    a duplicated task or a second worker finds nothing to claim. Returns when to try again after
    a transient failure, else None.
    """
    now = timezone.now()
    due = Q(status=Notification.Status.PENDING) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    # A digest whose window has closed is claimed straight from collecting.
    closed_digest = Q(status=Notification.Status.COLLECTING, send_after__lte=now)
    claimed = Notification.objects.filter(due | closed_digest, pk=notification_id).update(
        status=Notification.Status.SENDING,
        claimed_at=now,
        attempts=F("attempts") + 1,
        status_changed_at=now,
    )
    if not claimed:
        return None
    notification = composing.load(notification_id)
    case = notification.case
    with logcontext.bind(
        case_id=case.alert_id if case else None,
        organization=notification.organization.name,
        notification=notification_id,
    ):
        return _compose_and_send(notification)


def _compose_and_send(notification: Notification) -> timedelta | None:
    notification_id = notification.pk
    mail = composing.compose(notification)
    # Still ours? A send stalled (a frozen worker, a lost database) until the sweep took the row
    # for a dead worker's must not mail it a second time.
    still_ours = Notification.objects.filter(
        pk=notification_id, status=Notification.Status.SENDING, claimed_at=notification.claimed_at
    ).update(
        from_email=mail.from_email[:254],
        recipients=mail.to + mail.cc,
        subject=mail.subject[:998],
        body_text=mail.body_text,
    )
    if not still_ours:
        logger.warning("notification %s was taken over while composing; not sent", notification_id)
        return None
    try:
        message_id = email.send(mail)
    except TransportError as exc:
        return _failed(notification, exc)
    _sent(notification, message_id, mail.lists_suppressed)
    return None


def _sent(notification: Notification, message_id: str, listed: tuple[int, ...]) -> None:
    now = timezone.now()
    with transaction.atomic():
        Notification.objects.filter(pk=notification.pk, status=Notification.Status.SENDING).update(
            status=Notification.Status.SENT,
            provider_message_id=message_id[:255],
            sent_at=now,
            last_error="",
            status_changed_at=now,
        )
        if listed:
            # What this mail listed as suppressed has now been told (exactly those: one
            # suppressed after composing waits for the next mail).
            Notification.objects.filter(
                pk__in=listed, status=Notification.Status.SUPPRESSED, reported_in=None
            ).update(reported_in=notification)
    logger.info("notification %s handed to the provider as %s", notification.pk, message_id)


def _failed(notification: Notification, exc: TransportError) -> timedelta | None:
    now = timezone.now()
    if exc.permanent or notification.attempts >= settings.TAIRYO_MAIL_MAX_ATTEMPTS:
        reason = (
            str(exc) if exc.permanent else f"gave up after {notification.attempts} attempts: {exc}"
        )
        Notification.objects.filter(pk=notification.pk).update(
            status=Notification.Status.FAILED, last_error=reason[:2000], status_changed_at=now
        )
        logger.warning("notification %s failed: %s", notification.pk, reason)
        return None
    wait = backoff(notification.attempts)
    if exc.retry_after:
        wait = max(wait, timedelta(seconds=min(exc.retry_after, 600)))
    Notification.objects.filter(pk=notification.pk).update(
        status=Notification.Status.PENDING,
        next_attempt_at=now + wait,
        last_error=str(exc)[:2000],
        status_changed_at=now,
    )
    logger.info("notification %s will be retried in %s: %s", notification.pk, wait, exc)
    return wait


# --- Delivery reports --------------------------------------------------------------------------
# anymail's event types → the notification status they mean; "opened" only after delivery.
EVENT_STATUS = {
    "queued": None,
    "sent": None,
    "delivered": Notification.Status.DELIVERED,
    "deferred": Notification.Status.DEFERRED,
    "bounced": Notification.Status.BOUNCED,
    "rejected": Notification.Status.BOUNCED,
    "failed": Notification.Status.BOUNCED,
    "complained": Notification.Status.COMPLAINED,
    "opened": Notification.Status.OPENED,
}
# Reports that say the address itself does not work: the contact is marked for staff to fix.
PERMANENT_FAILURES = frozenset({"bounced", "rejected", "failed"})
# A later report never moves a notification back to an earlier state.
STATUS_ORDER: dict[str, int] = {
    Notification.Status.SENDING: 0,
    Notification.Status.SENT: 1,
    Notification.Status.DEFERRED: 2,
    Notification.Status.DELIVERED: 3,
    Notification.Status.OPENED: 4,
    Notification.Status.BOUNCED: 5,
    Notification.Status.COMPLAINED: 6,
}


def record_delivery_event(
    *,
    notification_id: str | None,
    message_id: str | None,
    event_type: str,
    event_id: str | None,
    recipient: str,
    reason: str,
    occurred_at: datetime | None,
) -> Notification | None:
    """Apply one provider report to its notification (once per event ID)."""
    notification = _find(notification_id, message_id)
    if notification is None:
        logger.info("delivery report %s for an unknown message %s", event_type, message_id)
        return None
    key = event_id or f"{message_id}:{event_type}:{recipient}:{occurred_at}"
    _, created = DeliveryEvent.objects.get_or_create(
        event_id=key[:255],
        defaults={
            "customer_id": notification.customer_id,
            "notification": notification,
            "event_type": event_type,
            "recipient": recipient[:254],
            "reason": reason,
            "occurred_at": occurred_at or timezone.now(),
        },
    )
    if not created:
        return notification
    with transaction.atomic():
        # Locked, then read again: the sender may be recording "sent" at this very moment, and a
        # report computed from the status read before that would be lost.
        notification = Notification.objects.select_for_update().get(pk=notification.pk)
        # The contact is marked in the same transaction as the status: nobody sees one without
        # the other.
        if event_type in PERMANENT_FAILURES:
            Contact.objects.filter(pk=notification.contact_id, email__iexact=recipient).update(
                bounced_at=timezone.now(), bounce_reason=f"{event_type}: {reason}"[:2000]
            )
        _advance(notification, EVENT_STATUS.get(event_type), message_id, reason)
    return notification


def _find(notification_id: str | None, message_id: str | None) -> Notification | None:
    if notification_id and notification_id.isdigit():
        found = Notification.objects.filter(pk=int(notification_id)).first()
        if found is not None:
            return found
    if message_id:
        return Notification.objects.filter(provider_message_id=message_id).first()
    return None


def _advance(
    notification: Notification, status: str | None, message_id: str | None, reason: str
) -> None:
    if status is None and notification.status != Notification.Status.SENDING:
        return
    now = timezone.now()
    current = STATUS_ORDER.get(notification.status, -1)
    # A report for a row still "sending" proves the provider took it (the worker died before
    # recording that): it counts as sent, so the sweep will not send it again.
    new_status = status or Notification.Status.SENT
    if STATUS_ORDER.get(new_status, -1) <= current:
        return
    changes: dict[str, object] = {"status": new_status, "status_changed_at": now}
    if notification.status == Notification.Status.SENDING:
        changes |= {"sent_at": now, "provider_message_id": (message_id or "")[:255]}
    if new_status == Notification.Status.BOUNCED:
        changes["last_error"] = reason[:2000]
    Notification.objects.filter(pk=notification.pk, status=notification.status).update(**changes)


# --- The sweep ----------------------------------------------------------------------------------
def due_ids(limit: int = 500) -> list[int]:
    """Pending notifications whose task may have been lost, and digests whose window closed."""
    now = timezone.now()
    stuck = list(
        Notification.objects.filter(
            status=Notification.Status.SENDING, claimed_at__lt=now - stuck_after()
        ).values_list("pk", flat=True)[:limit]
    )
    for notification_id in stuck:
        logger.warning(
            "notification %s was left sending by a dead worker; retrying", notification_id
        )
    # Only rows still sending: a delivery report may have settled one meanwhile.
    Notification.objects.filter(pk__in=stuck, status=Notification.Status.SENDING).update(
        status=Notification.Status.PENDING, status_changed_at=now
    )
    digests = Notification.objects.filter(
        status=Notification.Status.COLLECTING, send_after__lte=now
    ).values_list("pk", flat=True)[:limit]
    quiet = now - timedelta(seconds=30)
    pending = (
        Notification.objects.due()
        .filter(Q(next_attempt_at__isnull=False) | Q(status_changed_at__lt=quiet))
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    return [*stuck, *digests, *pending]
