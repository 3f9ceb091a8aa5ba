"""The auditor: Tairyo's health figures, and whether they allow telling Mackerel it is alive.

``measure()`` reads every figure with a fixed number of queries (one per table, whatever the
number of rows), so /metrics can call it on every scrape. ``problems()`` compares the figures
with the deadlines of ``settings.TAIRYO_AUDIT_*``; the heartbeat is posted only when it finds
none (design.md, "Watching itself"; docs/monitoring.md).

``health`` sits above every other app: it reads their tables, and nothing imports it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import (
    Avg,
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    Max,
    Min,
    Q,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from alerts import refusals
from alerts.models import WebhookReceipt
from health.models import Heartbeat
from health.tasks import canary_name
from notifications.models import Notification
from orgs.models import Organization

# Mails not yet handed to the provider: waiting, collecting into a digest, or being sent.
UNFINISHED_MAIL = (
    Notification.Status.PENDING,
    Notification.Status.COLLECTING,
    Notification.Status.SENDING,
)
# Time to provider is averaged over the mails handed over in this window.
PROVIDER_WINDOW = timedelta(minutes=15)
# A mail sent within the window was created at most this long before it (retries included);
# the bound lets PostgreSQL use the index on created_at instead of reading the whole table.
PROVIDER_LOOKBACK = timedelta(hours=2)
REJECTION_WINDOW = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Figures:
    """Tairyo's health at one moment; ages in seconds, None where there is nothing to measure.

    The canary figures are those of the stalest watched queue (TAIRYO_CANARY_QUEUES): its
    canary's age, None if it never ran.
    """

    canary_age_seconds: float | None
    canary_queue: str
    receipts_pending: int
    receipts_oldest_pending_seconds: float
    notifications_backlog: int
    notifications_oldest_backlog_seconds: float
    notifications_sent_recently: int
    time_to_provider_avg_seconds: float | None
    time_to_provider_max_seconds: float | None
    organizations_synced: int
    sync_stale_organizations: int
    sync_oldest_seconds: float
    sync_failing_organizations: int
    webhooks_rejected_last_hour: int
    webhooks_refused_last_hour: int

    def as_dict(self) -> dict[str, float | int | str | None]:
        return asdict(self)


def _age(moment: datetime | None, now: datetime) -> float:
    return max(0.0, (now - moment).total_seconds()) if moment else 0.0


def _seconds(duration: timedelta | None) -> float | None:
    return round(duration.total_seconds(), 3) if duration is not None else None


def measure(now: datetime | None = None) -> Figures:
    """Every figure, in five queries and one Redis round trip."""
    now = now or timezone.now()
    canary_queue, canary = _stalest_canary()
    pending, oldest_receipt, rejected = _receipts(now)
    backlog, oldest_mail = _mail_backlog()
    sent, provider_avg, provider_max = _time_to_provider(now)
    synced, stale, oldest_sync, failing = _syncs(now)
    return Figures(
        canary_age_seconds=_age(canary, now) if canary else None,
        canary_queue=canary_queue,
        receipts_pending=pending,
        receipts_oldest_pending_seconds=_age(oldest_receipt, now),
        notifications_backlog=backlog,
        notifications_oldest_backlog_seconds=_age(oldest_mail, now),
        notifications_sent_recently=sent,
        time_to_provider_avg_seconds=_seconds(provider_avg),
        time_to_provider_max_seconds=_seconds(provider_max),
        organizations_synced=synced,
        sync_stale_organizations=stale,
        sync_oldest_seconds=_age(oldest_sync, now),
        sync_failing_organizations=failing,
        webhooks_rejected_last_hour=rejected,
        webhooks_refused_last_hour=refusals.count_last_hour(),
    )


def _stalest_canary() -> tuple[str, datetime | None]:
    """The watched queue whose canary ran longest ago (or never), and when it last ran."""
    queues = settings.TAIRYO_CANARY_QUEUES
    names = {canary_name(queue): queue for queue in queues}
    beats = dict(Heartbeat.objects.filter(name__in=names).values_list("name", "beat_at"))
    ran = {names[name]: beat_at for name, beat_at in beats.items()}
    never = [queue for queue in queues if queue not in ran]
    if never:
        return never[0], None
    queue = min(ran, key=lambda q: ran[q])
    return queue, ran[queue]


def _receipts(now: datetime) -> tuple[int, datetime | None, int]:
    pending = Q(status=WebhookReceipt.Status.PENDING)
    rejected = Q(status=WebhookReceipt.Status.REJECTED, received_at__gte=now - REJECTION_WINDOW)
    # The pending partial index and the received_at index answer both halves.
    row = WebhookReceipt.objects.filter(pending | rejected).aggregate(
        pending=Count("pk", filter=pending),
        oldest=Min("received_at", filter=pending),
        rejected=Count("pk", filter=rejected),
    )
    return row["pending"], row["oldest"], row["rejected"]


def _mail_backlog() -> tuple[int, datetime | None]:
    row = Notification.objects.filter(status__in=UNFINISHED_MAIL).aggregate(
        count=Count("pk"), oldest=Min("created_at")
    )
    return row["count"], row["oldest"]


def _time_to_provider(now: datetime) -> tuple[int, timedelta | None, timedelta | None]:
    """From the webhook's arrival (or, without one, the case event or the mail) to the provider."""
    started = Coalesce(
        "case_event__receipt__received_at",
        "case_event__created_at",
        "created_at",
        output_field=DateTimeField(),
    )
    took = ExpressionWrapper(F("sent_at") - started, output_field=DurationField())
    row = Notification.objects.filter(
        created_at__gte=now - PROVIDER_LOOKBACK, sent_at__gte=now - PROVIDER_WINDOW
    ).aggregate(count=Count("pk"), avg=Avg(took), max=Max(took))
    return row["count"], row["avg"], row["max"]


def _syncs(now: datetime) -> tuple[int, int, datetime | None, int]:
    """Active organizations with a key: the ones sync is expected to visit."""
    deadline = now - timedelta(seconds=settings.TAIRYO_AUDIT_SYNC_SECONDS)
    # Never synced: counted from when it got its key, so a new organization is not stale at once.
    last = Coalesce("last_sync_at", "api_key_updated_at", "created_at")
    row = (
        Organization.objects.filter(is_active=True)
        .exclude(api_key_encrypted="")
        .annotate(last=last)
        .aggregate(
            count=Count("pk"),
            stale=Count("pk", filter=Q(last__lt=deadline)),
            oldest=Min("last"),
            failing=Count("pk", filter=Q(consecutive_sync_failures__gt=0)),
        )
    )
    return row["count"], row["stale"], row["oldest"], row["failing"]


def problems(figures: Figures) -> list[str]:
    """What holds the heartbeat back; empty when Tairyo may say it is alive."""
    found = []
    canary_limit = settings.TAIRYO_AUDIT_CANARY_SECONDS
    queue = figures.canary_queue
    canary = "the canary" if queue == "default" else f"the canary on the {queue} queue"
    if figures.canary_age_seconds is None:
        serving = "a worker" if queue == "default" else f"a worker serving {queue}"
        found.append(f"{canary} has never run: are beat and {serving} up?")
    elif figures.canary_age_seconds > canary_limit:
        found.append(
            f"{canary} last ran {figures.canary_age_seconds:.0f} s ago (deadline {canary_limit} s)"
        )
    receipt_limit = settings.TAIRYO_AUDIT_RECEIPT_SECONDS
    if figures.receipts_oldest_pending_seconds > receipt_limit:
        found.append(
            f"{figures.receipts_pending} webhook receipts pending, the oldest for "
            f"{figures.receipts_oldest_pending_seconds:.0f} s (deadline {receipt_limit} s)"
        )
    mail_limit = settings.TAIRYO_AUDIT_NOTIFICATION_SECONDS
    if figures.notifications_oldest_backlog_seconds > mail_limit:
        found.append(
            f"{figures.notifications_backlog} mails not yet handed to the provider, the oldest "
            f"for {figures.notifications_oldest_backlog_seconds:.0f} s (deadline {mail_limit} s)"
        )
    if figures.sync_stale_organizations:
        found.append(
            f"{figures.sync_stale_organizations} organizations not synced for "
            f"{settings.TAIRYO_AUDIT_SYNC_SECONDS} s, the oldest for "
            f"{figures.sync_oldest_seconds:.0f} s"
        )
    return found
