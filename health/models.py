"""Evidence that Tairyo's background machinery is alive."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Heartbeat(models.Model):
    """The last time a named periodic job really ran on a worker (e.g. the 30-second canary)."""

    name = models.CharField(max_length=64, unique=True)
    beat_at = models.DateTimeField()
    count = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} at {self.beat_at:%Y-%m-%d %H:%M:%S}"

    @classmethod
    def beat(cls, name: str) -> None:
        """Record that ``name`` ran now (one upsert, safe from several workers at once)."""
        now = timezone.now()
        updated = cls.objects.filter(name=name).update(beat_at=now, count=models.F("count") + 1)
        if not updated:
            cls.objects.get_or_create(name=name, defaults={"beat_at": now, "count": 1})


class SelfCheck(models.Model):
    """The auditor's latest verdict: whether Tairyo told Mackerel it is alive, and if not, why."""

    name = models.CharField(max_length=64, unique=True)
    checked_at = models.DateTimeField(_("checked at"))
    healthy = models.BooleanField(_("healthy"))
    problems = models.JSONField(_("problems"), default=list, blank=True)
    figures = models.JSONField(_("figures"), default=dict, blank=True)
    # The last heartbeat Mackerel accepted, and why the last attempt failed (empty if it did not).
    posted_at = models.DateTimeField(_("heartbeat posted at"), null=True, blank=True)
    post_error = models.TextField(_("posting error"), blank=True)

    class Meta:
        verbose_name = _("self-check")
        verbose_name_plural = _("self-checks")

    def __str__(self) -> str:
        return f"{self.name}: {'healthy' if self.healthy else 'held back'}"
