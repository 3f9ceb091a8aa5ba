from __future__ import annotations

from auditlog.models import LogEntry
from django import template

from audit import records

register = template.Library()


@register.filter
def audit_who(entry: LogEntry) -> str:
    return records.describe_actor(entry)
