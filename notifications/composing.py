"""Rendering a notification into the mail that is sent, never failing because of a template."""

from __future__ import annotations

import logging
from typing import Any

from django.db.models import QuerySet

from notifications import defaults, rendering
from notifications.models import Notification, Template
from notifications.transports.base import OutgoingMail

logger = logging.getLogger(__name__)


def _template(notification: Notification) -> Template | None:
    kind = notification.kind
    route_template = notification.route.template if notification.route else None
    if kind == Notification.Kind.CASE and route_template is not None:
        return route_template
    language = notification.contact.language
    return Template.objects.filter(kind=kind, language=language, is_default=True).first()


# What describing a listed case reads, fetched with the list: a digest of 300 cases is a
# handful of queries, not a thousand.
CASE_RELATED = (
    "case__host",
    "case__service",
    "case__organization__customer",
    "case_event",
)


def with_cases(items: QuerySet[Notification]) -> QuerySet[Notification]:
    return items.select_related(*CASE_RELATED).prefetch_related("case__host__roles__service")


def _suppressed(notification: Notification, time_zone: str, language: str) -> list[dict[str, Any]]:
    items = with_cases(
        Notification.objects.filter(
            contact_id=notification.contact_id,
            organization_id=notification.organization_id,
            status=Notification.Status.SUPPRESSED,
            reported_in=None,
        )
    ).order_by("created_at")
    return [_item_values(item, time_zone, language) for item in items]


def _item_values(item: Notification, time_zone: str, language: str) -> dict[str, Any]:
    assert item.case is not None and item.case_event is not None  # noqa: S101
    values = rendering.case_values(item.case, time_zone)
    values.update(rendering.event_values(item.case_event, time_zone, language))
    return values


def context(notification: Notification) -> dict[str, Any]:
    """The documented context of this notification's mail: plain values only."""
    contact = notification.contact
    tz, language = contact.time_zone, contact.language
    values: dict[str, Any] = {"contact_name": contact.name}
    if notification.kind == Notification.Kind.DIGEST:
        items = with_cases(notification.items.all()).order_by("created_at")
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
    values["suppressed"] = _suppressed(notification, tz, language)
    return values


def compose(notification: Notification) -> OutgoingMail:
    values = context(notification)
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
    )


def _addresses(value: str) -> list[str]:
    return [address.strip() for address in value.split(",") if address.strip()]
