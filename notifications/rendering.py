"""Rendering mail templates with a documented context of plain values.

The context is built here and only here: strings, numbers, booleans and lists of them. A template
edited in the admin therefore cannot walk from a case to its organization's API key, because no
model instance is ever handed to it.
"""

from __future__ import annotations

import functools
import zoneinfo
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.template import Context, Engine, Template, TemplateSyntaxError
from django.utils import translation

from alerts.models import Case, CaseEvent

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

# The documented context of a case mail (docs/notification-templates.md lists the same names).
CASE_FIELDS = (
    "case_id", "status", "severity", "previous_severity", "event", "event_label",
    "host_name", "host_display_name", "host_memo", "host_roles", "service", "monitor_name",
    "monitor_type", "message", "metric_label", "metric_value", "warning_threshold",
    "critical_threshold", "opened_at", "closed_at", "occurred_at", "time_zone", "case_url",
    "mackerel_url", "organization", "organization_name", "customer", "contact_name",
    "suppressed",
)  # fmt: skip


class MailEngine(Engine):
    """A template engine limited to notifications.template_library."""

    default_builtins = ["notifications.template_library"]  # noqa: RUF012 -- Engine's own shape


_TEXT = MailEngine(autoescape=False, libraries={}, string_if_invalid="")
_HTML = MailEngine(autoescape=True, libraries={}, string_if_invalid="")


class TemplateError(ValueError):
    """A template that does not compile or render; the message says where."""


@dataclass(frozen=True, slots=True)
class RenderedMail:
    subject: str
    body_text: str
    body_html: str


@functools.lru_cache(maxsize=512)
def _compiled(html: bool, source: str) -> Template:
    """A template compiled once per process: during a storm every mail of a route renders the
    same three sources, and compiling them cost more than rendering. Keyed by the source, so an
    edited template is a new entry; compiled templates render safely from several threads."""
    return (_HTML if html else _TEXT).from_string(source)


def render(subject: str, text: str, html: str, context: dict[str, Any]) -> RenderedMail:
    try:
        ctx = Context(context, autoescape=False)
        rendered_subject = _compiled(False, subject).render(ctx)
        rendered_text = _compiled(False, text).render(Context(context, autoescape=False))
        rendered_html = _compiled(True, html).render(Context(context)) if html else ""
    except TemplateSyntaxError as exc:
        raise TemplateError(str(exc)) from None
    except Exception as exc:  # a filter given the wrong type, say; the editor needs the message
        raise TemplateError(f"{type(exc).__name__}: {exc}") from None
    # A subject is one line: mail headers cannot carry line breaks. Plain str, not Django's
    # SafeString: a page that shows a rendered mail must escape it like any other text.
    return RenderedMail(
        " ".join(str(rendered_subject).split()), str(rendered_text), str(rendered_html)
    )


def _local(moment: datetime | None, tz: zoneinfo.ZoneInfo) -> str:
    return moment.astimezone(tz).strftime(TIME_FORMAT) if moment else ""


def case_values(case: Case, time_zone: str) -> dict[str, Any]:
    """The plain values describing a case, its times in ``time_zone``."""
    tz = zoneinfo.ZoneInfo(time_zone)
    host = case.host
    return {
        "case_id": case.alert_id,
        "status": "open" if case.is_open else "closed",
        "severity": case.severity.upper(),
        "host_name": host.name if host else "",
        "host_display_name": (host.display_name or host.name) if host else "",
        "host_memo": host.memo if host else "",
        "host_roles": [role.fullname for role in host.roles.all()] if host else [],
        "service": case.service.name if case.service else "",
        "monitor_name": case.monitor_name,
        "monitor_type": case.monitor_type,
        "message": case.message,
        "metric_label": case.metric_label,
        "metric_value": case.metric_value,
        "warning_threshold": case.warning_threshold,
        "critical_threshold": case.critical_threshold,
        "opened_at": _local(case.opened_at, tz),
        "closed_at": _local(case.closed_at, tz),
        "time_zone": time_zone,
        "case_url": case.portal_url,
        "mackerel_url": case.mackerel_url,
        "organization": str(case.organization),
        "organization_name": case.organization.name,
        "customer": str(case.organization.customer),
    }


def event_values(event: CaseEvent, time_zone: str, language: str) -> dict[str, Any]:
    with translation.override(language):
        label = str(CaseEvent.Kind(event.kind).label)
    return {
        "event": event.kind,
        "event_label": label,
        "previous_severity": event.previous_severity.upper(),
        "severity": event.severity.upper(),
        "occurred_at": _local(event.occurred_at, zoneinfo.ZoneInfo(time_zone)),
    }
