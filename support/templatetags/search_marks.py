"""Showing where a search matched: ``highlight`` and ``excerpt``."""

from __future__ import annotations

import re

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

EXCERPT_CONTEXT = 60


@register.filter
def highlight(value: object, term: str) -> SafeString:
    """``value`` escaped, with every case-insensitive occurrence of ``term`` in ``<mark>``."""
    text = str(value)
    if not term:
        return escape(text)
    parts, position = [], 0
    for match in re.finditer(re.escape(term), text, flags=re.IGNORECASE):
        parts.append(escape(text[position : match.start()]))
        parts.append(format_html("<mark>{}</mark>", match.group()))
        position = match.end()
    parts.append(escape(text[position:]))
    return mark_safe("".join(parts))  # noqa: S308 - every part is escaped above


@register.filter
def excerpt(value: object, term: str) -> str:
    """The part of a long text (a memo) around the first match of ``term``, on one line."""
    text = " ".join(str(value).split())
    found = text.lower().find(term.lower()) if term else -1
    if found < 0:
        return text if len(text) <= 2 * EXCERPT_CONTEXT else text[: 2 * EXCERPT_CONTEXT] + "…"
    start = max(0, found - EXCERPT_CONTEXT)
    end = min(len(text), found + len(term) + EXCERPT_CONTEXT)
    return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")
