"""Evidence that Tairyo's background machinery is alive."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


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
