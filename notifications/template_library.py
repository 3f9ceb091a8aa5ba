"""The only tags and filters a mail template may use.

Templates are edited in the admin by people who are not developers, so the engine they run in
offers Django's ordinary logic and formatting but nothing that reaches outside the context:
no ``{% load %}``, ``{% include %}``, ``{% extends %}``, ``{% url %}``, ``{% csrf_token %}`` or
``{% debug %}`` (which would print the context and loaded modules).
"""

from __future__ import annotations

from django.template import Library, defaultfilters, defaulttags

register = Library()

SAFE_TAGS = (
    "autoescape", "comment", "cycle", "filter", "firstof", "for", "if", "ifchanged", "now",
    "regroup", "resetcycle", "spaceless", "templatetag", "verbatim", "widthratio", "with",
)  # fmt: skip

for _name in SAFE_TAGS:
    register.tags[_name] = defaulttags.register.tags[_name]
register.filters.update(defaultfilters.register.filters)
