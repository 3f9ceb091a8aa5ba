"""Support's search over every organization, shared by the staff page and bench/search.py.

A query is read once (``parse``): an exact case or host ID or an address of exactly one host is
a jump straight to its page (``jump_target``); anything else is searched as text (``search``)
with a constant number of queries, whatever the number of rows:

* hosts: host name, display name and custom identifier by substring, memo by substring, host
  ID exactly, IP addresses exactly or by prefix. Ranked exact > prefix > substring > memo only,
  live hosts before retired ones, shorter names first;
* cases: case ID (the Mackerel alert ID) exactly or by prefix, else the newest cases of the
  hosts found;
* organizations: name, display name and the customer's name by substring.

On PostgreSQL the substring matches use pg_trgm GIN indexes on ``UPPER(field)``, which is what
Django's ``icontains`` compares (orgs/migrations/0004); on SQLite (the demo) they scan.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db import connection, models
from django.db.models import Q, QuerySet
from django.db.models.functions import Length
from django.urls import reverse

from accounts.models import User
from alerts.models import Case
from orgs.models import Host, Organization, ip_address_list
from portal.pagination import WindowPage, page_number

MIN_LENGTH = 2
MAX_LENGTH = 200
# Per kind on the overview; a kind's own page shows more, a page at a time.
PREVIEW = 10
PER_PAGE = 50
CASE_ID_PREFIX_MIN = 4
# pg_trgm finds substrings of at least three characters.
TRIGRAM = 3

KINDS = ("hosts", "cases", "organizations")
# Mackerel's IDs (alerts, hosts) are short runs of letters and digits, e.g. 3k73ZJscVcW.
ID_PATTERN = re.compile(r"[0-9A-Za-z]{4,32}")
# The start of an address: 10.0.3 or 10.0.3. (IPv4), 2001:db8: (IPv6).
IP_FRAGMENT = re.compile(r"\d{1,3}(\.\d{0,3}){1,3}|[0-9a-f]{1,4}:[0-9a-f:]*")

# Ranks of a host match, best first.
EXACT, PREFIX, SUBSTRING, MEMO = 4, 3, 2, 1


class Problem:
    """Why a query is not searched (shown to the user)."""

    EMPTY = "empty"
    SHORT = "short"
    LONG = "long"


@dataclass(frozen=True)
class Query:
    """What was typed, cleaned, and what it may be: an ID, an address, an address prefix."""

    text: str
    problem: str = ""
    looks_like_id: bool = False
    ip: str = ""
    ip_prefix: str = ""


def parse(raw: str) -> Query:
    """Clean a query: no control characters (PostgreSQL refuses NUL), spaces collapsed, and
    full-width letters and digits typed with a Japanese input method made half-width."""
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in raw)
    text = " ".join(text.split())
    narrow = unicodedata.normalize("NFKC", text)
    if narrow.isascii():
        text = narrow
    if not text:
        return Query(text, Problem.EMPTY)
    if len(text) < MIN_LENGTH:
        return Query(text, Problem.SHORT)
    if len(text) > MAX_LENGTH:
        return Query(text[:MAX_LENGTH], Problem.LONG)
    lowered = text.lower()
    ip = ""
    with contextlib.suppress(ValueError):
        ip = str(ipaddress.ip_address(lowered))
    return Query(
        text,
        looks_like_id=bool(ID_PATTERN.fullmatch(text)),
        ip=ip,
        ip_prefix=lowered if not ip and IP_FRAGMENT.fullmatch(lowered) else "",
    )


# --- Exact matches: straight to the object -------------------------------------------------------
def jump_target(user: User | AnonymousUser, query: Query) -> str | None:
    """The page of the one case or host whose ID (or address) the query is, if exactly one is.

    One query. Several matches (the same ID in two organizations, an address reused) are not a
    jump: the results list them, with their organizations.
    """
    if query.problem:
        return None
    if query.looks_like_id:
        cases = Case.objects.visible_to(user).filter(alert_id=query.text)
        hosts = Host.objects.visible_to(user).filter(mackerel_id=query.text)
        found = list(
            cases.annotate(kind=models.Value("case"))
            .values_list("kind", "alert_id")
            .order_by()
            .union(
                hosts.annotate(kind=models.Value("host"))
                .values_list("kind", "mackerel_id")
                .order_by(),
                all=True,
            )[:2]
        )
    elif query.ip:
        addresses = _with_ip_list(Host.objects.visible_to(user)).filter(_ip_equals(query.ip))
        found = [("host", pk) for pk in addresses.values_list("mackerel_id", flat=True)[:2]]
    else:
        return None
    if len(found) != 1:
        return None
    kind, object_id = found[0]
    if kind == "case":
        return reverse("pages:case_detail", kwargs={"alert_id": object_id})
    return reverse("pages:host_detail", kwargs={"host_id": object_id})


# --- Text search ---------------------------------------------------------------------------------
def _empty() -> WindowPage[Any]:
    return WindowPage(object_list=[], number=1, has_next=False)


@dataclass
class Results:
    """One page of results per kind; on the overview a few of each, on a kind's page only it."""

    query: Query
    kind: str = ""
    hosts: WindowPage[Host] = field(default_factory=_empty)
    cases: WindowPage[Case] = field(default_factory=_empty)
    organizations: WindowPage[Organization] = field(default_factory=_empty)
    # On the overview, when no case ID matched: the newest cases of the hosts shown.
    host_cases: list[Case] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (
            self.hosts.object_list
            or self.cases.object_list
            or self.organizations.object_list
            or self.host_cases
        )


def search(
    user: User | AnonymousUser, query: Query, kind: str = "", page: str | None = None
) -> Results:
    """Ranked matches of every kind (or only ``kind``, a page at a time): at most four
    queries, each bounded by an index and a LIMIT."""
    results = Results(query, kind if kind in KINDS else "")
    if query.problem:
        return results
    if results.kind:
        number, size = page_number(page), PER_PAGE
    else:
        number, size = 1, PREVIEW
    if results.kind in ("", "hosts"):
        results.hosts = _window(hosts(user, query), number, size)
    if results.kind in ("", "cases"):
        results.cases = _window(cases(user, query), number, size)
    if results.kind in ("", "organizations"):
        results.organizations = _window(organizations(user, query), number, size)
    if not results.kind and not results.cases.object_list and results.hosts.object_list:
        results.host_cases = list(
            Case.objects.visible_to(user)
            .filter(host__in=[host.pk for host in results.hosts.object_list])
            .select_related("organization__customer", "host")
            .order_by("-opened_at", "-id")[:PREVIEW]
        )
    return results


def _window(queryset: QuerySet[Any] | RankedHosts, number: int, size: int) -> WindowPage[Any]:
    start = (number - 1) * size
    rows = list(queryset[start : start + size + 1])
    return WindowPage(object_list=rows[:size], number=number, has_next=len(rows) > size)


def _ip_equals(address: str) -> Q:
    if connection.vendor == "postgresql":
        # An array contains the address: served by the GIN index on string_to_array().
        return Q(ip_list__contains=[address])
    return Q(ip_addresses__regex=rf"(^| ){re.escape(address)}( |$)")


def _with_ip_list(hosts: QuerySet[Host]) -> QuerySet[Host]:
    if connection.vendor == "postgresql":
        return hosts.alias(ip_list=ip_address_list())
    return hosts


def hosts(user: User | AnonymousUser, query: Query) -> RankedHosts:
    """Hosts matching ``query``, best first, with their organization and customer."""
    text = query.text
    names = ("name", "display_name", "custom_identifier")
    exact = Q(mackerel_id=text) | _any(names, "iexact", text)
    prefix = _any(names, "istartswith", text)
    if query.ip:
        exact |= _ip_equals(query.ip)
    elif query.ip_prefix:
        # An address of the host starts with the fragment (addresses are space-separated).
        prefix |= Q(ip_addresses__regex=rf"(^| ){re.escape(query.ip_prefix)}")
    contains = _contains_lookup(text)
    substring = _any(names, contains, text)
    memo = Q(**{f"memo__{contains}": text})
    # Tiers, best first; a host in several (an exact name is also a prefix) counts in the best.
    # Each tier is one index (or a BitmapOr of a few) and a LIMIT.
    tiers = ((EXACT, exact), (PREFIX, prefix), (SUBSTRING, substring), (MEMO, memo))
    scoped = _with_ip_list(Host.objects.visible_to(user))
    return RankedHosts(
        scoped.select_related("organization__customer"),
        tuple((rank, scoped.filter(match)) for rank, match in tiers),
    )


# Rows of one tier read to rank it. Ranking every match means reading every match: a word found
# in thousands of memos, or "prod", in fourteen thousand host names, costs as many rows, most
# of them never shown. A tier with more matches is ranked among the first CANDIDATES found.
CANDIDATES = 500


@dataclass(frozen=True)
class RankedHosts:
    """Hosts of tiers of matches, best tier first; within a tier live hosts before retired ones,
    shorter names first. Sliced like a queryset, in two queries: candidates of every tier (one
    ``UNION ALL``, each part stopping at its LIMIT), then the hosts of the slice."""

    hosts: QuerySet[Host]
    tiers: tuple[tuple[int, QuerySet[Host]], ...]

    def __getitem__(self, window: slice) -> list[Host]:
        start, stop = window.start or 0, window.stop
        limit = max(CANDIDATES, stop or 0)
        parts = [
            hosts.order_by()
            .annotate(rank=models.Value(rank), name_length=Length("name"))
            .values_list("rank", "is_retired", "name_length", "name", "pk")[:limit]
            for rank, hosts in self.tiers
        ]
        if connection.features.supports_slicing_ordering_in_compound:
            candidates = list(parts[0].union(*parts[1:], all=True))
        else:  # SQLite (the demo): a query per tier
            candidates = [row for part in parts for row in part]
        candidates.sort(key=lambda row: (-row[0], *row[1:]))
        ranked = list(dict.fromkeys(row[-1] for row in candidates))
        ids = ranked[start:stop]
        found = self.hosts.in_bulk(ids) if ids else {}
        return [found[pk] for pk in ids]

    def __iter__(self) -> Iterator[Host]:
        return iter(self[0:None])


def cases(user: User | AnonymousUser, query: Query) -> QuerySet[Case]:
    """Cases whose ID is the query or starts with it (IDs are case-sensitive, as in Mackerel)."""
    if not query.looks_like_id or len(query.text) < CASE_ID_PREFIX_MIN:
        return Case.objects.none()
    return (
        Case.objects.visible_to(user)
        .filter(alert_id__startswith=query.text)
        .select_related("organization__customer", "host")
        .order_by("alert_id", "organization_id")
    )


def organizations(user: User | AnonymousUser, query: Query) -> QuerySet[Organization]:
    """Organizations whose name or display name, or whose customer's name, matches."""
    text = query.text
    names = ("name", "display_name", "customer__name")
    rank = models.Case(
        models.When(_any(names, "iexact", text), then=models.Value(EXACT)),
        models.When(_any(names, "istartswith", text), then=models.Value(PREFIX)),
        default=models.Value(SUBSTRING),
    )
    return (
        Organization.objects.visible_to(user)
        .filter(_any(names, "icontains", text))
        .annotate(rank=rank)
        .select_related("customer")
        .order_by("-rank", "customer__name", "name")
    )


def _contains_lookup(text: str) -> str:
    """``icontains``, served by the trigram indexes, unless the text is too short for a trigram
    and has no letter with a case (田中, 12): then every row is read, and a plain LIKE reads
    them several times faster than one on UPPER() of each, and finds the same rows."""
    if len(text) < TRIGRAM and text.upper() == text.lower():
        return "contains"
    return "icontains"


def _any(fields: tuple[str, ...], lookup: str, value: str) -> Q:
    condition = Q()
    for name in fields:
        condition |= Q(**{f"{name}__{lookup}": value})
    return condition
