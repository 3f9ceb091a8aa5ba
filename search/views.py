"""The staff search page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.decorators import staff_required
from search import lookup


@staff_required
def search(request: HttpRequest) -> HttpResponse:
    """``?q=``: an exact ID or address goes straight to its object; anything else is ranked
    results by kind, ``&kind=hosts`` (cases, organizations) for one kind, page by page."""
    query = lookup.parse(request.GET.get("q", ""))
    kind = request.GET.get("kind", "")
    if not kind and (target := lookup.jump_target(request.user, query)):
        return redirect(target)
    results = lookup.search(request.user, query, kind, request.GET.get("page"))
    context = {
        "query": query,
        "results": results,
        "min_length": lookup.MIN_LENGTH,
        "max_length": lookup.MAX_LENGTH,
    }
    return render(request, "search/search.html", context)
