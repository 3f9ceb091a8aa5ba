"""Turning new timeline entries into notifications (the outbox), calmly during a storm.

Runs as one planner at a time (an advisory lock on PostgreSQL), so the storm and flap counts
it reads are the ones it writes.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from alerts.models import Case, CaseEvent
from notifications import routing
from notifications.models import Notification, Route
from portal import logcontext

logger = logging.getLogger(__name__)

PLANNER_LOCK = 7_301_001  # pg_advisory_xact_lock key: "one planner at a time"
BATCH = 200
PROBLEMS = "problems"
RECOVERIES = "recoveries"


def _take_planner_lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PLANNER_LOCK])


@dataclass
class Plan:
    """What one planning pass created."""

    to_send: list[int]
    digests: list[int]
    planned_events: int


def plan_pending(batch: int = BATCH) -> Plan:
    """Plan every timeline entry not planned yet, a batch at a time."""
    total = Plan([], [], 0)
    while True:
        plan = _plan_batch(batch)
        total.to_send += plan.to_send
        total.digests += plan.digests
        total.planned_events += plan.planned_events
        if plan.planned_events < batch:
            return total


def _plan_batch(batch: int) -> Plan:
    plan = Plan([], [], 0)
    with transaction.atomic():
        _take_planner_lock()
        events = list(
            CaseEvent.objects.filter(planned_at=None)
            .select_related("case", "case__host", "case__organization")
            .order_by("created_at", "id")[:batch]
        )
        org_ids = {event.case.organization_id for event in events}
        routes = _routes_by_organization(org_ids)
        now = timezone.now()
        batch_state = _Batch.load(events, org_ids, now, plan)
        for event in events:
            if event.applied:
                case = event.case
                with logcontext.bind(case_id=case.alert_id, organization=case.organization.name):
                    _plan_event(event, routes.get(case.organization_id, []), batch_state)
        created = Notification.objects.bulk_create(batch_state.new)
        plan.to_send += [n.pk for n in created if n.status == Notification.Status.PENDING]
        for notification in created:
            _log_planned(notification)
        CaseEvent.objects.filter(pk__in=[event.pk for event in events]).update(planned_at=now)
        plan.planned_events = len(events)
    return plan


def _routes_by_organization(org_ids: set[int]) -> dict[int, list[Route]]:
    routes: dict[int, list[Route]] = defaultdict(list)
    # In a fixed order, so which route (and template) reaches a contact first is predictable.
    active = Route.objects.filter(organization_id__in=org_ids, is_active=True).order_by(
        "name", "pk"
    )
    for route in active.prefetch_related("contacts"):
        routes[route.organization_id].append(route)
    return routes


@dataclass
class _Batch:
    """What planning a batch needs to know, read in a few queries and kept current as it goes.

    A storm plans thousands of events; asking the database, for each, how many mails its
    contacts had lately and which digest is collecting cost most of the planner's time.
    """

    now: datetime
    plan: Plan
    # (case event, contact) pairs already planned (a lost planned_at, say): never twice.
    told: set[tuple[int, int]]
    # Case mails (not suppressed) per (contact, organization) within the digest window.
    recent: Counter[tuple[int, int]]
    # Digests still collecting, per (contact, organization, category); locked for the batch.
    digests: dict[tuple[int, int, str], Notification]
    new: list[Notification] = field(default_factory=list)

    @classmethod
    def load(cls, events: list[CaseEvent], org_ids: set[int], now: datetime, plan: Plan) -> _Batch:
        told = set(
            Notification.objects.filter(case_event__in=events).values_list(
                "case_event_id", "contact_id"
            )
        )
        recent: Counter[tuple[int, int]] = Counter()
        counts = (
            Notification.objects.filter(
                organization_id__in=org_ids,
                kind=Notification.Kind.CASE,
                created_at__gte=now - settings.TAIRYO_DIGEST_WINDOW,
            )
            .exclude(status=Notification.Status.SUPPRESSED)
            .values("contact_id", "organization_id")
            .annotate(count=Count("id"))
        )
        for row in counts:
            recent[(row["contact_id"], row["organization_id"])] = row["count"]
        # Locked until the planner commits: a sender claiming one meanwhile waits, then reads
        # its items with this batch's among them; a digest claimed before is not in this list,
        # and a new one is opened. Either way no case is left out of every mail.
        collecting = Notification.objects.select_for_update().filter(
            organization_id__in=org_ids,
            kind=Notification.Kind.DIGEST,
            status=Notification.Status.COLLECTING,
        )
        digests = {
            (digest.contact_id, digest.organization_id, digest.digest_category): digest
            for digest in collecting
        }
        return cls(now, plan, told, recent, digests)

    def digest_for(self, notification: Notification, category: str) -> Notification:
        """The contact's digest collecting for this organization and category, or a new one."""
        key = (notification.contact_id, notification.organization_id, category)
        if key not in self.digests:
            self.digests[key] = Notification.objects.create(
                customer_id=notification.customer_id,
                organization_id=notification.organization_id,
                kind=Notification.Kind.DIGEST,
                contact_id=notification.contact_id,
                route=notification.route,
                digest_category=category,
                status=Notification.Status.COLLECTING,
                send_after=self.now + settings.TAIRYO_DIGEST_DELAY,
            )
            self.plan.digests.append(self.digests[key].pk)
        return self.digests[key]


def _plan_event(event: CaseEvent, routes: list[Route], batch: _Batch) -> None:
    flapping = _is_flapping(event.case)
    for recipient in routing.recipients(event, routes):
        if (event.pk, recipient.contact.pk) in batch.told:
            continue
        notification = Notification(
            customer_id=event.customer_id,
            organization_id=event.case.organization_id,
            case=event.case,
            case_event=event,
            contact=recipient.contact,
            route=recipient.route,
        )
        # A storm: the contact has had DIGEST_THRESHOLD mails about this organization lately.
        key = (recipient.contact.pk, event.case.organization_id)
        if flapping:
            notification.status = Notification.Status.SUPPRESSED
        elif batch.recent[key] >= settings.TAIRYO_DIGEST_THRESHOLD:
            notification.status = Notification.Status.IN_DIGEST
            notification.digest = batch.digest_for(notification, _category(event))
        if not flapping:
            batch.recent[key] += 1
        batch.new.append(notification)


def _log_planned(notification: Notification) -> None:
    case, event = notification.case, notification.case_event
    assert case is not None and event is not None  # noqa: S101 -- planned from a case event
    with logcontext.bind(case_id=case.alert_id, organization=case.organization.name):
        logger.info(
            "%s event: notification %s to contact %s is %s",
            event.kind,
            notification.pk,
            notification.contact_id,
            notification.status,
        )


def _category(event: CaseEvent) -> str:
    improved = event.kind in (CaseEvent.Kind.CLOSED, CaseEvent.Kind.IMPROVED)
    return RECOVERIES if improved else PROBLEMS


def _is_flapping(case: Case) -> bool:
    """The same monitor on the same host opened FLAP_THRESHOLD cases within FLAP_WINDOW."""
    if case.host_id is None or not case.monitor_name:
        return False
    recent = Case.objects.filter(
        organization_id=case.organization_id,
        host_id=case.host_id,
        monitor_name=case.monitor_name,
        opened_at__gte=case.opened_at - settings.TAIRYO_FLAP_WINDOW,
        opened_at__lte=case.opened_at,
    ).count()
    return recent >= settings.TAIRYO_FLAP_THRESHOLD


def flush_suppressed(now: datetime | None = None) -> list[int]:
    """Suppressed notifications no later mail has listed go out in a digest of their own.

    Flapping mails are left out and listed in the contact's next mail; if the flapping stopped
    and no next mail came, this makes sure the contact still hears of every case.
    """
    now = now or timezone.now()
    created: list[int] = []
    with transaction.atomic():
        _take_planner_lock()
        stale = Notification.objects.filter(
            status=Notification.Status.SUPPRESSED,
            reported_in=None,
            created_at__lt=now - settings.TAIRYO_FLAP_WINDOW,
        ).order_by("created_at")
        groups: dict[tuple[int, int], list[Notification]] = defaultdict(list)
        for item in stale:
            groups[(item.contact_id, item.organization_id)].append(item)
        for items in groups.values():
            first = items[0]
            digest = Notification.objects.create(
                customer_id=first.customer_id,
                organization_id=first.organization_id,
                kind=Notification.Kind.DIGEST,
                contact_id=first.contact_id,
                route_id=first.route_id,
                digest_category=PROBLEMS,
                status=Notification.Status.PENDING,
            )
            Notification.objects.filter(pk__in=[item.pk for item in items]).update(
                status=Notification.Status.IN_DIGEST, digest=digest
            )
            created.append(digest.pk)
    return created
