"""The search function itself: what a query is, what it finds, in which order, at what cost."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from accounts.models import User
from alerts.tests.factories import make_case, make_cases
from orgs.models import Host, Organization
from orgs.tests.factories import make_host, make_hosts
from support import search

pytestmark = pytest.mark.django_db


def names(hosts: list[Host]) -> list[str]:
    return [host.name for host in hosts]


@pytest.mark.parametrize(
    ("raw", "text", "problem"),
    [
        ("", "", "empty"),
        ("   \x00 ", "", "empty"),
        ("a", "a", "short"),
        ("  web   01 ", "web 01", ""),
        ("ｗｅｂ－０１", "web-01", ""),  # full width, from a Japanese input method
        ("本番", "本番", ""),
        ("a\x00b", "a b", ""),
        ("x" * 201, "x" * 200, "long"),
    ],
)
def test_parse_cleans_the_query(raw: str, text: str, problem: str) -> None:
    query = search.parse(raw)
    assert (query.text, query.problem) == (text, problem)


def test_parse_recognises_ids_and_addresses() -> None:
    assert search.parse("3k73ZJscVcW").looks_like_id
    assert not search.parse("web-01").looks_like_id
    assert search.parse("10.0.3.15").ip == "10.0.3.15"
    assert search.parse("2001:DB8::1").ip == "2001:db8::1"
    assert search.parse("10.0.3").ip_prefix == "10.0.3"
    assert search.parse("2001:db8:").ip_prefix == "2001:db8:"
    assert search.parse("db.example").ip_prefix == ""


def test_hosts_are_ranked_exact_prefix_substring_memo_and_live_before_retired(
    support_user: User, acme_org: Organization, globex_org: Organization
) -> None:
    make_host(acme_org, "m1", name="mail-01", memo="relays for web-01")
    make_host(acme_org, "s1", name="old-web-01-backup")
    make_host(globex_org, "p2", name="web-01-staging")
    make_host(globex_org, "p1", name="web-01a")
    make_host(acme_org, "r1", name="web-01", is_retired=True)
    make_host(globex_org, "e1", name="web-01")
    make_host(acme_org, "d1", name="db-01", display_name="WEB-01")
    make_host(acme_org, "x1", name="cache-01")
    found = search.hosts(support_user, search.parse("web-01"))
    assert names(list(found)) == [
        "db-01",  # exact (display name), live
        "web-01",  # exact, live
        "web-01",  # exact, retired
        "web-01a",  # prefix, shorter first
        "web-01-staging",
        "old-web-01-backup",  # substring
        "mail-01",  # memo only
    ]
    assert [host.organization.name for host in found[1:3]] == ["globex-prod", "acme-prod"]


def test_hosts_by_custom_identifier_memo_in_japanese_and_host_id(
    support_user: User, acme_org: Organization
) -> None:
    make_host(acme_org, "4Xk2mQ9sTrB", name="a", custom_identifier="i-0abc123def")
    make_host(acme_org, "h2", name="b", memo="毎週日曜 3:00 に再起動。障害時は田中さんへ")
    assert names(list(search.hosts(support_user, search.parse("0ABC123")))) == ["a"]
    assert names(list(search.hosts(support_user, search.parse("再起動")))) == ["b"]
    assert names(list(search.hosts(support_user, search.parse("4Xk2mQ9sTrB")))) == ["a"]


def test_a_tier_with_more_matches_than_it_ranks_keeps_the_better_tiers_first(
    support_user: User, acme_org: Organization, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "CANDIDATES", 3)
    make_hosts(acme_org, 8, prefix="old-web")
    make_host(acme_org, "w1", name="web")
    make_host(acme_org, "w2", name="web-1", is_retired=True)
    make_host(acme_org, "m1", name="mail", memo="web relay")
    found = names(list(search.hosts(support_user, search.parse("web"))))
    # Exact, then prefix, then three of the eight substrings (shortest first), then the memo.
    assert found[:2] == ["web", "web-1"]
    assert len(found) == 6
    assert all(name.startswith("old-web") for name in found[2:5])
    assert found[5] == "mail"
    # A page deeper than the candidates reads as many rows of each tier as it needs.
    assert len(search.hosts(support_user, search.parse("web"))[0:20]) == 11


def test_short_text_without_case_matches_as_it_would_with_case(
    support_user: User, acme_org: Organization
) -> None:
    """Two kanji have no trigram and no case: matched by a plain LIKE, with the same rows."""
    make_host(acme_org, "h1", name="a", memo="障害時は田中さんへ")
    make_host(acme_org, "h2", name="b", display_name="田中 DB")
    make_host(acme_org, "h3", name="c", memo="佐藤")
    assert search._contains_lookup("田中") == "contains"
    assert search._contains_lookup("db") == "icontains"
    assert search._contains_lookup("田中さん") == "icontains"
    assert names(list(search.hosts(support_user, search.parse("田中")))) == ["b", "a"]


def test_addresses_match_exactly_or_from_their_start(
    support_user: User, acme_org: Organization
) -> None:
    make_host(acme_org, "h1", name="a", ip_addresses="10.0.3.15 2001:db8::15")
    make_host(acme_org, "h2", name="b", ip_addresses="192.0.2.1 10.0.3.150")
    make_host(acme_org, "h3", name="c", ip_addresses="110.0.3.15")
    assert names(list(search.hosts(support_user, search.parse("10.0.3.15")))) == ["a"]
    # A whole address is that address; an incomplete one is the start of addresses.
    assert names(list(search.hosts(support_user, search.parse("10.0.3.1")))) == []
    assert names(list(search.hosts(support_user, search.parse("10.0.3.")))) == ["a", "b"]
    assert names(list(search.hosts(support_user, search.parse("2001:DB8::15")))) == ["a"]
    assert names(list(search.hosts(support_user, search.parse("192.0.2")))) == ["b"]


def test_cases_by_id_and_prefix_across_organizations(
    support_user: User, acme_org: Organization, globex_org: Organization
) -> None:
    make_case(acme_org, "3k73ZJscVcW")
    make_case(globex_org, "3k73ZJscVcX")
    make_case(globex_org, "3K73zjscvcw")  # IDs are case-sensitive
    found = search.cases(support_user, search.parse("3k73ZJscV"))
    assert [(c.alert_id, c.organization.name) for c in found] == [
        ("3k73ZJscVcW", "acme-prod"),
        ("3k73ZJscVcX", "globex-prod"),
    ]
    assert not search.cases(support_user, search.parse("3k7")).exists()


def test_organizations_by_their_names_and_their_customers(
    support_user: User, acme_org: Organization, globex_org: Organization
) -> None:
    globex_org.display_name = "Globex 本番"
    globex_org.save()
    found = search.organizations(support_user, search.parse("ACME"))
    assert [org.name for org in found] == ["acme-prod"]
    assert [org.name for org in search.organizations(support_user, search.parse("本番"))] == [
        "globex-prod"
    ]
    assert [org.name for org in search.organizations(support_user, search.parse("prod"))] == [
        "acme-prod",
        "globex-prod",
    ]


def test_jump_target_only_for_exactly_one_object(
    support_user: User, acme_org: Organization, globex_org: Organization
) -> None:
    make_case(acme_org, "3k73ZJscVcW")
    make_host(globex_org, "4Xk2mQ9sTrB", ip_addresses="192.0.2.7 10.1.1.1")
    make_host(acme_org, "5Yk2mQ9sTrC", ip_addresses="10.1.1.1")
    make_case(acme_org, "dupl1cate")
    make_case(globex_org, "dupl1cate")

    def jump(text: str) -> str | None:
        return search.jump_target(support_user, search.parse(text))

    assert jump("3k73ZJscVcW") == "/cases/3k73ZJscVcW/"
    assert jump("4Xk2mQ9sTrB") == "/hosts/4Xk2mQ9sTrB/"
    assert jump("192.0.2.7") == "/hosts/4Xk2mQ9sTrB/"
    assert jump("10.1.1.1") is None  # two hosts
    assert jump("dupl1cate") is None  # two organizations
    assert jump("3k73ZJscVc") is None  # a prefix is a search, not a jump


def test_customers_find_nothing_even_when_asked_directly(
    alice: User, globex_org: Organization
) -> None:
    make_host(globex_org, "g1", name="globex-web")
    make_case(globex_org, "g1case")
    results = search.search(alice, search.parse("globex"))
    assert results.empty
    assert search.jump_target(alice, search.parse("g1case")) is None


def test_query_count_does_not_grow_with_rows(
    support_user: User,
    acme_org: Organization,
    globex_org: Organization,
    django_assert_num_queries: Callable[..., Any],
) -> None:
    def count(text: str) -> int:
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as context:
            query = search.parse(text)
            search.jump_target(support_user, query)
            results = search.search(support_user, query)
            for host in results.hosts.object_list:
                str(host.organization.customer)
            for case in results.host_cases:
                str(case.host)
                str(case.organization.customer)
        return len(context.captured_queries)

    hosts = make_hosts(acme_org, 2, prefix="web")
    make_cases(acme_org, 2, hosts=hosts)
    few = count("web")
    for org in (acme_org, globex_org):
        many = make_hosts(org, 120, prefix="webx")
        make_cases(org, 300, hosts=many, prefix="cx")
    # Hosts (their candidates, then the page's rows), organizations, cases of the hosts found
    # ("web" is not an ID: no case query).
    assert count("web") == few == 4


def plan(queryset: Any) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # A test's few thousand rows fit in a few pages, where a scan is cheapest; at 70,000
        # hosts the planner picks the indexes by itself (bench/search.py shows the plans).
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_each_match_can_use_its_index(acme_org: Organization) -> None:
    """The trigram indexes are on UPPER(field), which is what icontains compares, and the
    address list is the same expression as the index's."""
    make_hosts(acme_org, 3000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE orgs_host")
    hosts = Host.objects.all()
    for name in ("name", "display_name", "custom_identifier", "memo"):
        assert f"host_{name}_trgm" in plan(hosts.filter(**{f"{name}__icontains": "prod-02999"}))
    assert "host_ip_trgm" in plan(hosts.filter(ip_addresses__regex=r"(^| )10\.0\.11\."))
    addresses = search._with_ip_list(hosts).filter(search._ip_equals("10.0.11.250"))
    assert "host_ip_list_idx" in plan(addresses)
    assert "host_mackerel_id_idx" in plan(hosts.filter(mackerel_id="h1x02999"))
    # Exact and prefix matches by a btree on UPPER(), not the trigrams every "prod" host shares.
    for name, index in (
        ("name", "host_name_upper_idx"),
        ("display_name", "host_display_upper_idx"),
        ("custom_identifier", "host_custom_id_upper_idx"),
    ):
        assert index in plan(hosts.filter(**{f"{name}__iexact": "prod-02999"}))
        assert index in plan(hosts.filter(**{f"{name}__istartswith": "prod-029"}))
    organizations = Organization.objects.all()
    assert "org_name_trgm" in plan(organizations.filter(name__icontains="acme"))
