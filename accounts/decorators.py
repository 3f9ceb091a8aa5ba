"""View decorators about who may open a page."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse

View = Callable[..., HttpResponse]


def staff_required(view: View) -> View:
    """Anonymous users log in; customer users get a 404, as for anything not theirs.

    Django's ``staff_member_required`` sends a logged-in customer to the admin login instead,
    which both confirms the page exists and asks them for credentials they do not have.
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not request.user.is_staff:
            raise Http404
        return view(request, *args, **kwargs)

    return login_required(wrapped)
