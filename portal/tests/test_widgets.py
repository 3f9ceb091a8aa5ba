"""The quick select writes what Django's template-rendered select writes."""

from __future__ import annotations

import re

import pytest
from django import forms

from portal.widgets import QuickSelect

CHOICES = [("", "All"), ("a&b", "A <b>"), ("Group", [("g1", "一"), ("g2", "二")])]


def squeeze(html: str) -> str:
    return re.sub(r">\s+<", "><", html.strip())


@pytest.mark.parametrize("value", ["a&b", "", None, "g2"])
def test_same_html_as_djangos_select(value: str | None) -> None:
    attrs = {"id": "id_s", "aria-invalid": "true", "required": True, "disabled": False}
    expected = forms.Select(choices=CHOICES).render("s", value, attrs)
    assert squeeze(QuickSelect(choices=CHOICES).render("s", value, attrs)) == squeeze(expected)
