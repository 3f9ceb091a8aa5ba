"""Rendering a notification into the mail that is sent, never failing because of a template."""

from __future__ import annotations

import logging
from typing import Any

from django.db.models import Prefetch, QuerySet

from notifications import defaults, rendering
from notifications.models import Notification, Template
from notifications.transports.base import OutgoingMail
from orgs.models import Role

logger = logging.getLogger(__name__)


def _template(notification: Notification) -> Template | None:
    kind = notification.kind
    route_template = notification.route.template if notification.route else None
    if kind == Notification.Kind.CASE and route_template is not None:
        return route_template
    language = notification.contact.language
    return Template.objects.filter(kind=kind, language=language, is_default=True).first()


# What describing a listed case reads, fetched with the list: a digest of 300 cases is a
# handful of queries, not a thousand. A case's organization is its notification's, read once
# with the notification (``_share_organization``): joining it again for every case made the
# sender's read an eleven-table join that PostgreSQL took longer to plan than to run.
CASE_RELATED = ("case__host", "case__service", "case_event")


def with_cases(items: QuerySet[Notification]) -> QuerySet[Notification]:
    roles = Prefetch("case__host__roles", queryset=Role.objects.select_related("service"))
    return items.select_related(*CASE_RELATED).prefetch_related(roles)


def load(notification_id: int) -> Notification:
    """The notification with everything composing its mail reads, in three queries."""
    notification = (
        with_cases(Notification.objects.all())
        .select_related("contact", "organization__customer", "route__template")
        .get(pk=notification_id)
    )
    _share_organization([notification], notification)
    return notification


def _share_organization(items: list[Notification], notification: Notification) -> None:
    """Every listed case belongs to the notification's organization: reuse its row."""
    for item in items:
        if item.case is not None and item.case.organization_id == notification.organization_id:
            item.case.organization = notification.organization


def _listed(items: QuerySet[Notification], notification: Notification) -> list[Notification]:
    found = list(with_cases(items).order_by("created_at", "pk"))
    _share_organization(found, notification)
    return found


def _suppressed_ids(notification: Notification) -> list[int]:
    """The contact's mails left out while a case flapped, not yet listed in a sent mail."""
    return list(
        Notification.objects.filter(
            contact_id=notification.contact_id,
            organization_id=notification.organization_id,
            status=Notification.Status.SUPPRESSED,
            reported_in=None,
        ).values_list("pk", flat=True)
    )


def _suppressed(
    notification: Notification, time_zone: str, language: str
) -> tuple[list[int], list[dict[str, Any]]]:
    # Nearly always none: one cheap query, and the cases are read only when there are some.
    ids = _suppressed_ids(notification)
    if not ids:
        return [], []
    items = _listed(Notification.objects.filter(pk__in=ids), notification)
    return [item.pk for item in items], [_item_values(item, time_zone, language) for item in items]


def _item_values(item: Notification, time_zone: str, language: str) -> dict[str, Any]:
    assert item.case is not None and item.case_event is not None  # noqa: S101
    values = rendering.case_values(item.case, time_zone)
    values.update(rendering.event_values(item.case_event, time_zone, language))
    return values


def context(notification: Notification) -> dict[str, Any]:
    """The documented context of this notification's mail: plain values only."""
    return _context(notification)[0]


def _context(notification: Notification) -> tuple[dict[str, Any], list[int]]:
    """The context, and the suppressed notifications it lists."""
    contact = notification.contact
    tz, language = contact.time_zone, contact.language
    values: dict[str, Any] = {"contact_name": contact.name}
    if notification.kind == Notification.Kind.DIGEST:
        items = _listed(notification.items.all(), notification)
        cases = [_item_values(item, tz, language) for item in items]
        org = notification.organization
        values |= {
            "cases": cases,
            "count": len(cases),
            "category": notification.digest_category,
            "organization": str(org),
            "organization_name": org.name,
            "customer": str(org.customer),
            "window_start": cases[0]["occurred_at"] if cases else "",
            "window_end": cases[-1]["occurred_at"] if cases else "",
            "time_zone": tz,
        }
    else:
        values |= _item_values(notification, tz, language)
    listed, values["suppressed"] = _suppressed(notification, tz, language)
    return values, listed


def compose(notification: Notification) -> OutgoingMail:
    values, listed = _context(notification)
    template = _template(notification)
    language = notification.contact.language
    try:
        if template is None:
            raise rendering.TemplateError("no template")
        mail = rendering.render(template.subject, template.body_text, template.body_html, values)
        sender, reply_to = template.from_email, template.reply_to
        to = _addresses(template.to_override) or [notification.contact.email]
        cc = _addresses(template.cc)
    except rendering.TemplateError as exc:
        # A template that broke after it was saved must not cost the customer their mail.
        logger.error("template for notification %s failed (%s); using the built-in one",
                     notification.pk, exc)  # fmt: skip
        text = defaults.BUILT_IN[(notification.kind, language)]
        mail = rendering.render(text["subject"], text["body_text"], text["body_html"], values)
        sender, reply_to, to, cc = defaults.sender(language), "", [notification.contact.email], []
    return OutgoingMail(
        notification_id=notification.pk,
        customer_id=notification.customer_id,
        kind=notification.kind,
        from_email=sender,
        to=to,
        cc=cc,
        reply_to=_addresses(reply_to),
        subject=mail.subject,
        body_text=mail.body_text,
        body_html=mail.body_html,
        headers={"X-Tairyo-Case": str(values.get("case_id", ""))} if values.get("case_id") else {},
        lists_suppressed=tuple(listed),
    )


def _addresses(value: str) -> list[str]:
    return [address.strip() for address in value.split(",") if address.strip()]
