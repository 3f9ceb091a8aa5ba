"""Pagination helpers shared by the list pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from django.core.paginator import Page, Paginator
from django.db.models import Model, QuerySet

_M = TypeVar("_M", bound=Model)

PER_PAGE = 50


def page_number(raw: str | None) -> int:
    """A page number from the query string; anything odd is the first page."""
    try:
        return max(1, int(raw or 1))
    except ValueError:
        return 1


def counted_page(queryset: QuerySet[_M], raw: str | None, per_page: int = PER_PAGE) -> Page[_M]:
    """A page with the total count: two queries, whatever the number of rows."""
    return Paginator(queryset, per_page).get_page(raw)


@dataclass(frozen=True)
class WindowPage(Generic[_M]):
    """A page of a list too long to count on every request: it knows only its neighbours."""

    object_list: list[_M]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next


def window_page(
    queryset: QuerySet[_M], raw: str | None, per_page: int = PER_PAGE
) -> WindowPage[_M]:
    """One query for a page of a list of any length (a million cases): one row more than the
    page says whether a next page exists, so no ``COUNT(*)`` over the customer's history."""
    number = page_number(raw)
    start = (number - 1) * per_page
    rows = list(queryset[start : start + per_page + 1])
    return WindowPage(object_list=rows[:per_page], number=number, has_next=len(rows) > per_page)
