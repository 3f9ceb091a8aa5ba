"""Support's staff pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.decorators import staff_required
from support import search


@staff_required
def search_page(request: HttpRequest) -> HttpResponse:
    """``?q=``: an exact ID or address goes straight to its object; anything else is ranked
    results by kind, ``&kind=hosts`` (cases, organizations) for one kind, page by page."""
    query = search.parse(request.GET.get("q", ""))
    kind = request.GET.get("kind", "")
    if not kind and (target := search.jump_target(request.user, query)):
        return redirect(target)
    results = search.search(request.user, query, kind, request.GET.get("page"))
    context = {
        "query": query,
        "results": results,
        "min_length": search.MIN_LENGTH,
        "max_length": search.MAX_LENGTH,
    }
    return render(request, "support/search.html", context)
