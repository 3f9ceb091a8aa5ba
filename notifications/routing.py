"""Which routes, and so which contacts, a case event reaches."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from alerts.cases import SEVERITY_RANK
from alerts.models import CaseEvent
from notifications.models import Contact, Route


@dataclass(frozen=True, slots=True)
class Recipient:
    """A contact reached by an event, through the first route that reaches them."""

    contact: Contact
    route: Route


def relevant_severity(event: CaseEvent) -> str:
    """The severity a route's minimum is compared with.

    A change counts at the worse of its new and previous severity; a recovery counts at the worst
    the case ever was, so a critical-only route hears that its critical case recovered. A close
    that arrived before anything else counts as critical: nobody was told it opened.
    """
    if event.kind == CaseEvent.Kind.CLOSED:
        seen = set(event.case.events.values_list("severity", flat=True)) - {"ok"}
        return max(seen, key=lambda s: SEVERITY_RANK[s]) if seen else "critical"
    return max(event.severity, event.previous_severity or "ok", key=lambda s: SEVERITY_RANK[s])


def services_of(event: CaseEvent) -> set[int]:
    """The case's service, and every service its host has a role in: a route for any of them
    hears of the host's alerts."""
    case = event.case
    services = {case.service_id} if case.service_id else set()
    if case.host is not None:
        services |= set(case.host.roles.values_list("service_id", flat=True))
    return services


def route_matches(route: Route, event: CaseEvent, services: set[int]) -> bool:
    """Whether ``route`` sends mail for ``event``; ``services`` is ``services_of(event)``."""
    if not route.is_active or event.kind not in route.triggers:
        return False
    if route.service_id is not None and route.service_id not in services:
        return False
    return SEVERITY_RANK[relevant_severity(event)] >= SEVERITY_RANK[route.minimum_severity]


def recipients(event: CaseEvent, routes: Iterable[Route]) -> list[Recipient]:
    """Each active contact of the case's customer once, however many routes reach them."""
    seen: dict[int, Recipient] = {}
    services = services_of(event)
    for route in routes:
        if not route_matches(route, event, services):
            continue
        for contact in route.contacts.all():
            if contact.is_active and contact.customer_id == event.customer_id:
                seen.setdefault(contact.pk, Recipient(contact, route))
    return list(seen.values())
