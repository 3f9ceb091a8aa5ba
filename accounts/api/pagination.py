"""Cursor pagination: stable pages while cases keep arriving, no COUNT over large tables."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request


class ApiCursorPagination(CursorPagination):
    """``?cursor=`` from ``next``/``previous``; ``?page_size=`` up to 500."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500
    # Each view sets its own ordering; the last field is unique so no row is skipped or repeated.
    ordering = "-id"

    def get_ordering(self, request: Request, queryset: QuerySet[Any], view: Any) -> tuple[str, ...]:
        # The view says its order (a tuple ending in a unique field), not the paginator.
        return tuple(getattr(view, "ordering", (self.ordering,)))
