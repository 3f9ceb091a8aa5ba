"""Sample contexts for mail templates, and previews of a template with them or with a real case.

Sales edit templates in the admin; before a template is saved it is rendered with every sample
here, so a filter given the wrong type or a broken tag is refused at the desk rather than
discovered (and replaced by the built-in mail) when a customer's server is down.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from alerts.models import Case, CaseEvent
from notifications import rendering
from notifications.models import Template
from notifications.transports import email
from notifications.transports.base import OutgoingMail

SAMPLE_TIME_ZONE = "Asia/Tokyo"
OPENED_AT = "2026-05-29 05:26:40"
WORSENED_AT = "2026-05-29 05:31:40"
CLOSED_AT = "2026-05-29 05:46:40"
# A storm: three hosts within a minute, and their recoveries.
STORM_TIMES = ("2026-05-29 05:26:40", "2026-05-29 05:26:58", "2026-05-29 05:27:31")
RECOVERY_TIMES = ("2026-05-29 05:46:40", "2026-05-29 05:47:02", "2026-05-29 05:47:45")

# Words that differ by language; everything else in a sample is the same in both.
_WORDS: dict[str, dict[str, str]] = {
    "ja": {
        "host_display_name": "東京 Web 01",
        "host_memo": "本番 Web サーバ（決済 API）",
        "monitor_name": "CPU 使用率",
        "organization": "サンプル本番環境",
        "customer": "株式会社サンプル",
        "contact_name": "運用 太郎",
    },
    "en": {
        "host_display_name": "Tokyo web 01",
        "host_memo": "Production web server (payment API)",
        "monitor_name": "CPU usage",
        "organization": "Sample production",
        "customer": "Sample Corp.",
        "contact_name": "Alex Morgan",
    },
}


@dataclass(frozen=True, slots=True)
class Sample:
    """One named sample context a template is rendered with."""

    key: str
    label: str
    context: dict[str, Any]


def _words(language: str) -> dict[str, str]:
    return _WORDS.get(language, _WORDS["ja"])


def _event_label(kind: str, language: str) -> str:
    with translation.override(language):
        return str(CaseEvent.Kind(kind).label)


def _case_url(case_id: str) -> str:
    return f"{settings.PORTAL_BASE_URL}{reverse('pages:case_detail', args=[case_id])}"


def sample_case(
    language: str,
    *,
    case_id: str = "3k73ZJscVcW",
    host: str = "tky-web-01",
    event: str = CaseEvent.Kind.OPENED,
) -> dict[str, Any]:
    """A plausible case mail context with every field of ``rendering.CASE_FIELDS``.

    Fields that are empty by nature for ``event`` stay empty (an open case has no ``closed_at``,
    an opened event no ``previous_severity``), as they would be in a real mail.
    """
    words = _words(language)
    closed = event == CaseEvent.Kind.CLOSED
    severity = {"opened": "CRITICAL", "worsened": "CRITICAL", "closed": "OK"}.get(event, "WARNING")
    previous = {"worsened": "WARNING", "closed": "CRITICAL", "improved": "CRITICAL"}.get(event, "")
    occurred = {"worsened": WORSENED_AT, "closed": CLOSED_AT}.get(event, OPENED_AT)
    return {
        "case_id": case_id,
        "status": "closed" if closed else "open",
        "severity": severity,
        "previous_severity": previous,
        "event": str(event),
        "event_label": _event_label(event, language),
        "host_name": host,
        "host_display_name": words["host_display_name"],
        "host_memo": words["host_memo"],
        "host_roles": ["shop: web", "shop: api"],
        "service": "shop",
        "monitor_name": words["monitor_name"],
        "monitor_type": "host",
        "message": "CPU % 95.5 > 90",
        "metric_label": "cpu%",
        "metric_value": 95.5,
        "warning_threshold": 80.0,
        "critical_threshold": 90.0,
        "opened_at": OPENED_AT,
        "closed_at": CLOSED_AT if closed else "",
        "occurred_at": occurred,
        "time_zone": SAMPLE_TIME_ZONE,
        "case_url": _case_url(case_id),
        "mackerel_url": f"https://mackerel.io/orgs/sample-prod/alerts/{case_id}",
        "organization": words["organization"],
        "organization_name": "sample-prod",
        "customer": words["customer"],
        "contact_name": words["contact_name"],
        "suppressed": [],
    }


def _suppressed(language: str) -> list[dict[str, Any]]:
    """Two flapping notifications left out, as a later mail lists them."""
    items = []
    for index, event in enumerate((CaseEvent.Kind.OPENED, CaseEvent.Kind.CLOSED)):
        item = sample_case(language, case_id=f"4fLaP0000{index:02d}", host="tky-db-02", event=event)
        del item["contact_name"], item["suppressed"]
        items.append(item)
    return items


def case_samples(language: str) -> list[Sample]:
    """The case mail samples: opened, worsened (listing left-out flapping mails), recovered."""
    worsened = sample_case(language, event=CaseEvent.Kind.WORSENED)
    worsened["suppressed"] = _suppressed(language)
    # Labels are for the staff member reading the admin, so in their language, not the mail's.
    return [
        Sample("opened", _("Sample case opened"), sample_case(language)),
        Sample("worsened", _("Sample case worsened, listing left-out mails"), worsened),
        Sample(
            "closed",
            _("Sample case recovered"),
            sample_case(language, event=CaseEvent.Kind.CLOSED),
        ),
    ]


def sample_digest(language: str, category: str = "problems") -> dict[str, Any]:
    """A digest context: three cases of one organization within the storm window."""
    event = CaseEvent.Kind.CLOSED if category == "recoveries" else CaseEvent.Kind.OPENED
    times = RECOVERY_TIMES if event == CaseEvent.Kind.CLOSED else STORM_TIMES
    cases = []
    for index, moment in enumerate(times):
        case = sample_case(
            language, case_id=f"5tRm{index:07d}", host=f"tky-web-{index + 1:02d}", event=event
        )
        del case["contact_name"], case["suppressed"]
        case["occurred_at"] = moment
        case["closed_at" if event == CaseEvent.Kind.CLOSED else "opened_at"] = moment
        cases.append(case)
    words = _words(language)
    return {
        "cases": cases,
        "count": len(cases),
        "category": category,
        "organization": words["organization"],
        "organization_name": "sample-prod",
        "customer": words["customer"],
        "window_start": cases[0]["occurred_at"],
        "window_end": cases[-1]["occurred_at"],
        "time_zone": SAMPLE_TIME_ZONE,
        "contact_name": words["contact_name"],
        "suppressed": [],
    }


def digest_samples(language: str) -> list[Sample]:
    """The digest samples: a storm of problems, and of recoveries listing left-out mails."""
    recovered = sample_digest(language, "recoveries")
    recovered["suppressed"] = _suppressed(language)
    return [
        Sample("problems", _("Sample storm of problems"), sample_digest(language, "problems")),
        Sample("recoveries", _("Sample storm of recoveries, listing left-out mails"), recovered),
    ]


def samples(kind: str, language: str) -> list[Sample]:
    return digest_samples(language) if kind == Template.Kind.DIGEST else case_samples(language)


def case_context(case: Case, language: str, time_zone: str = SAMPLE_TIME_ZONE) -> dict[str, Any]:
    """The context a mail about ``case`` (its latest event) would get, for a sample contact."""
    values = rendering.case_values(case, time_zone)
    event = case.events.order_by("-occurred_at", "-id").first()
    if event is not None:
        values |= rendering.event_values(event, time_zone, language)
    else:
        values |= {"event": "opened", "event_label": _event_label("opened", language)}
        values |= {"previous_severity": "", "occurred_at": values["opened_at"]}
    values |= {"contact_name": _words(language)["contact_name"], "suppressed": []}
    return values


def case_sample(case: Case, kind: str, language: str) -> Sample:
    """A real case as a sample: itself for a case template, a digest of one for a digest."""
    values = case_context(case, language)
    if kind == Template.Kind.DIGEST:
        item = {k: v for k, v in values.items() if k not in ("contact_name", "suppressed")}
        closed = values["event"] == CaseEvent.Kind.CLOSED
        values = {
            "cases": [item],
            "count": 1,
            "category": "recoveries" if closed else "problems",
            "window_start": values["occurred_at"],
            "window_end": values["occurred_at"],
        } | {k: values[k] for k in ("organization", "organization_name", "customer")}
        values |= {"time_zone": item["time_zone"], "contact_name": _words(language)["contact_name"]}
        values["suppressed"] = []
    label = _("Case %(case_id)s of %(organization)s") % {
        "case_id": case.alert_id,
        "organization": case.organization,
    }
    return Sample(f"case-{case.alert_id}", label, values)


def find_case(alert_id: str) -> Case | None:
    """The most recent case with this alert ID, with what its context reads."""
    return (
        Case.objects.filter(alert_id=alert_id)
        .select_related("host", "service", "organization__customer")
        .prefetch_related("host__roles__service")
        .order_by("-opened_at")
        .first()
    )


@dataclass(frozen=True, slots=True)
class Preview:
    """A template rendered with one sample, or the error that stopped it."""

    sample: Sample
    mail: rendering.RenderedMail | None
    error: str


def preview(template: Template, sample: Sample) -> Preview:
    try:
        mail = rendering.render(
            template.subject, template.body_text, template.body_html, sample.context
        )
    except rendering.TemplateError as exc:
        return Preview(sample, None, str(exc))
    return Preview(sample, mail, "")


PARTS = ("subject", "body_text", "body_html")


def first_error(part: str, source: str, kind: str, language: str) -> tuple[Sample, str] | None:
    """The first sample that ``source``, as the template's ``part``, fails to render with.

    Each part is rendered on its own so that an error can be shown on the field that has it, and
    the HTML body with the escaping engine it is sent with.
    """
    sources = dict.fromkeys(PARTS, "") | {part: source}
    for sample in samples(kind, language):
        try:
            mail = rendering.render(
                sources["subject"], sources["body_text"], sources["body_html"], sample.context
            )
        except rendering.TemplateError as exc:
            return sample, str(exc)
        if part == "subject" and not mail.subject:
            return sample, _("the subject comes out empty")
    return None


def send_test(template: Template, *, to: str) -> str:
    """Mail ``template`` rendered with its first sample to ``to`` only; the provider's message ID.

    The template's own To and Cc are left out on purpose: a test must never reach a customer.
    Raises ``rendering.TemplateError`` or ``TransportError``.
    """
    sample = samples(template.kind, template.language)[0]
    mail = rendering.render(
        template.subject, template.body_text, template.body_html, sample.context
    )
    return email.send(
        OutgoingMail(
            # No notification row: delivery reports for a test find nothing and are ignored.
            notification_id=0,
            customer_id=0,
            kind="test",
            from_email=template.from_email,
            to=[to],
            cc=[],
            reply_to=[a.strip() for a in template.reply_to.split(",") if a.strip()],
            subject=f"[TEST] {mail.subject}",
            body_text=mail.body_text,
            body_html=mail.body_html,
            headers={"X-Tairyo-Test": "yes"},
        )
    )
