"""Turning new timeline entries into deliveries, one per subscribed URL (the outbox).

The planner reads the timeline from a mark, minus an overlap: an entry is stamped when it is
made and becomes visible when its transaction commits, so one stamped slightly before the mark
can appear after it. Re-reading the overlap is harmless, as a delivery is unique per entry and
subscription.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from alerts.models import CaseEvent
from notifications.api.serializers import CaseSerializer
from webhooks.models import EVENT_FOR_KIND, Delivery, EventType, PlannerMark, Subscription

# Far longer than the transaction that writes an entry; re-reading costs a few minutes' entries.
OVERLAP = timedelta(minutes=2)
BATCH = 500


def event_id(entry: CaseEvent) -> str:
    return f"evt_{entry.pk}"


def payload(event_type: str, entry: CaseEvent | None, data: dict[str, Any]) -> dict[str, Any]:
    """The body every receiver gets, in the Standard Webhooks shape (type, timestamp, data)."""
    when = entry.occurred_at if entry is not None else timezone.now()
    return {"type": event_type, "timestamp": when.isoformat(), "data": data}


def plan_pending() -> list[int]:
    """Write deliveries for timeline entries since the mark; the new deliveries' ids.

    One planner at a time: the mark's row is locked for the run, and a planner woken meanwhile
    returns at once instead of queueing behind it (a storm wakes it once per receipt). What the
    running one did not see is in the overlap of the next wake-up or sweep.
    """
    created: list[int] = []
    with transaction.atomic():
        mark = PlannerMark.objects.select_for_update(skip_locked=True).first()
        if mark is None:
            if not PlannerMark.objects.exists():
                # First run: start now, not from the beginning of history.
                PlannerMark.objects.create(planned_until=timezone.now())
            return created
        subscribed = set(
            Subscription.objects.filter(is_active=True).values_list("customer_id", flat=True)
        )
        if not subscribed:
            # Nobody listens: nothing to read. A subscription made later starts after its
            # creation, so moving the mark on skips nothing anyone could receive.
            mark.planned_until = max(mark.planned_until, timezone.now() - OVERLAP)
            mark.save(update_fields=["planned_until"])
            return created
        after: tuple[datetime, int] = (mark.planned_until - OVERLAP, 0)
        # Key-set pages, so a storm larger than a batch is read to its end in one run; only
        # the customers with a subscription, so a storm elsewhere costs nothing here.
        while entries := _entries_after(subscribed, *after):
            created += _deliveries_for(entries)
            after = (entries[-1].created_at, entries[-1].pk)
        if after[0] > mark.planned_until:
            mark.planned_until = after[0]
            mark.save(update_fields=["planned_until"])
    return created


def _entries_after(customers: set[int], created_at: datetime, pk: int) -> list[CaseEvent]:
    return list(
        CaseEvent.objects.filter(applied=True, customer_id__in=customers)
        .filter(Q(created_at__gt=created_at) | Q(created_at=created_at, pk__gt=pk))
        .select_related("case", "case__organization", "case__host", "case__service")
        .order_by("created_at", "id")[:BATCH]
    )


def _deliveries_for(entries: list[CaseEvent]) -> list[int]:
    customers = {entry.customer_id for entry in entries}
    subscriptions = list(Subscription.objects.filter(customer_id__in=customers, is_active=True))
    if not subscriptions:
        return []
    rows = []
    for entry in entries:
        event_type = EVENT_FOR_KIND[CaseEvent.Kind(entry.kind)]
        receivers = [
            subscription
            for subscription in subscriptions
            if subscription.customer_id == entry.customer_id
            and event_type in subscription.events
            and subscription.created_at <= entry.created_at
        ]
        if not receivers:
            continue
        body = payload(event_type, entry, _data(entry))
        rows += [
            Delivery(
                customer_id=entry.customer_id,
                subscription=subscription,
                event_id=event_id(entry),
                event_type=event_type,
                case=entry.case,
                case_event=entry,
                payload=body,
            )
            for subscription in receivers
        ]
    if not rows:
        return []
    before = set(Delivery.objects.filter(case_event__in=entries).values_list("pk", flat=True))
    Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    after = Delivery.objects.filter(case_event__in=entries).values_list("pk", flat=True)
    return sorted(set(after) - before)


def _data(entry: CaseEvent) -> dict[str, Any]:
    return {
        "case": CaseSerializer(entry.case).data,
        "event": {
            "kind": entry.kind,
            "severity": entry.severity,
            "previous_severity": entry.previous_severity,
            "occurred_at": entry.occurred_at.isoformat(),
        },
    }


def make_test_delivery(subscription: Subscription) -> Delivery:
    """A ``test`` event to one subscription, so a receiver can be checked before cases arrive."""
    import uuid

    return Delivery.objects.create(
        customer_id=subscription.customer_id,
        subscription=subscription,
        event_id=f"evt_test_{uuid.uuid4().hex}",
        event_type=EventType.TEST,
        payload=payload(EventType.TEST, None, {"message": "Test event from Tairyo"}),
    )
