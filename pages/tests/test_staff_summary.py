"""The staff summary of organizations: its figures on a crafted world, who may see it, its cost."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Customer, User
from alerts.models import Case, CaseEvent
from alerts.tests.factories import make_case, make_cases
from notifications.models import Contact, Route
from orgs.models import Host, Organization, SyncRun
from orgs.tests.factories import make_host, make_hosts, make_role
from pages import staff_summary
from pages.tests import test_accessibility as accessibility

pytestmark = pytest.mark.django_db
Login = Callable[[User], Client]
URL = "/staff/orgs/"
TOKYO = ZoneInfo("Asia/Tokyo")
# Noon in Tokyo: every "days ago" below is a whole local day away from any midnight.
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=TOKYO)
TODAY = NOW.date()


def at(days_ago: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime.combine(TODAY - timedelta(days=days_ago), time(hour, minute), tzinfo=TOKYO)


def ago(days: int) -> date:
    return TODAY - timedelta(days=days)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


class World:
    """acme_org in trouble (an open critical case, failing sync, a gap, a bouncing contact),
    globex_org without any route, and calm, which is fine."""

    def __init__(self, acme_org: Organization, globex_org: Organization, globex: Customer) -> None:
        self.acme_org = acme_org
        self.globex_org = globex_org
        self._hosts(acme_org)
        self._cases(acme_org)
        self._sync(acme_org)
        self._routes(acme_org)
        make_hosts(globex_org, 2)
        self.calm = Organization.objects.create(customer=globex, name="calm-prod")
        Organization.objects.filter(pk=self.calm.pk).update(last_sync_at=at(0, 11))
        everything = Route.objects.create(organization=self.calm, name="all", triggers=["opened"])
        everything.contacts.add(Contact.objects.create(customer=globex, name="g", email="g@x.jp"))

    def _hosts(self, org: Organization) -> None:
        web, db = make_role(org, "web", "app"), make_role(org, "db", "primary")
        make_host(org, "w1", mackerel_created_at=at(100), roles=[web])
        make_host(org, "w2", mackerel_created_at=at(100), roles=[db])
        make_host(org, "s1", mackerel_created_at=at(10), status=Host.Status.STANDBY)
        make_host(org, "m1", mackerel_created_at=at(40), status=Host.Status.MAINTENANCE)
        make_host(org, "p1", mackerel_created_at=at(200), status=Host.Status.POWEROFF)
        make_host(org, "u1")  # known from a webhook only: no registration time yet
        retired = {"r1": (120, 5), "r2": (50, 20), "r3": (300, 100)}
        for host_id, (created, gone) in retired.items():
            make_host(
                org,
                host_id,
                mackerel_created_at=at(created),
                is_retired=True,
                retired_at=at(gone),
            )
        make_host(org, "rx", mackerel_created_at=at(30), is_retired=True)  # retired, time unknown

    def _cases(self, org: Organization) -> None:
        make_case(org, "crit", opened_at=at(1))
        make_case(org, "warn", severity=Case.Severity.WARNING, opened_at=at(3))
        make_case(org, "unk", severity=Case.Severity.UNKNOWN, opened_at=at(3))
        closed = {"esc": ["warning", "critical", "ok"], "calmed": ["warning", "ok"]}
        for alert_id, severities in closed.items():
            case = make_case(
                org, alert_id, severity="ok", is_open=False, opened_at=at(3), closed_at=at(2)
            )
            for n, severity in enumerate(severities):
                CaseEvent.objects.create(
                    customer=org.customer,
                    case=case,
                    kind="opened" if n == 0 else "closed" if severity == "ok" else "worsened",
                    severity=severity,
                    source="webhook",
                    occurred_at=at(3) + timedelta(minutes=n),
                )
        # Half past midnight in Tokyo is still yesterday in UTC.
        make_case(org, "late", severity="ok", is_open=False, opened_at=at(0, 0, 30))
        make_case(org, "old", severity="ok", is_open=False, opened_at=at(40))

    def _sync(self, org: Organization) -> None:
        SyncRun.objects.create(
            customer=org.customer,
            organization=org,
            started_at=at(0, 10),
            finished_at=at(0, 10, 1),
            outcome=SyncRun.Outcome.SUCCESS,
            host_count=6,
        )
        SyncRun.objects.create(
            customer=org.customer,
            organization=org,
            started_at=at(0, 11),
            finished_at=at(0, 11, 1),
            outcome=SyncRun.Outcome.FAILED,
            error_kind=SyncRun.ErrorKind.UNREACHABLE,
            error_message="connection refused by api.mackerelio.com",
        )
        Organization.objects.filter(pk=org.pk).update(
            last_sync_at=at(0, 11, 1),
            last_sync_success_at=at(0, 10, 1),
            sync_error="Mackerel unreachable: connection refused by api.mackerelio.com",
            consecutive_sync_failures=3,
        )

    def _routes(self, org: Organization) -> None:
        ops = Contact.objects.create(customer=org.customer, name="ops", email="ops@acme.example")
        gone = Contact.objects.create(
            customer=org.customer,
            name="gone",
            email="gone@acme.example",
            bounced_at=at(2),
            bounce_reason="550 5.1.1 no such user",
        )
        web = Route.objects.create(
            organization=org,
            name="web team",
            service=org.services.get(name="web"),
            triggers=["opened"],
        )
        web.contacts.add(ops, gone)


@pytest.fixture
def world(acme_org: Organization, globex_org: Organization, globex: Customer) -> World:
    return World(acme_org, globex_org, globex)


# --- Figures -------------------------------------------------------------------------------------
def test_overview_counts_every_figure(world: World, support_user: User) -> None:
    rows = {f.organization.name: f for f in staff_summary.overview(support_user)}
    acme = rows["acme-prod"]
    assert acme.hosts == {"working": 3, "standby": 1, "maintenance": 1, "poweroff": 1}
    assert acme.retired_hosts == 4
    assert acme.open_cases == {"critical": 1, "warning": 1, "unknown": 1}
    assert (acme.gaps.has_routes, acme.gaps.services, acme.gaps.hosts) == (True, 1, 5)
    assert acme.bouncing_contacts == 1
    assert acme.organization.sync_failing
    globex = rows["globex-prod"]
    assert (globex.host_total, globex.open_total, globex.gaps.has_routes) == (2, 0, False)
    assert globex.gaps.hosts == 2
    calm = rows["calm-prod"]
    assert (calm.gaps.total, calm.bouncing_contacts, calm.troubled) == (0, 0, False)


def test_troubled_organizations_come_first(world: World, support_user: User) -> None:
    sleepy = Organization.objects.create(customer=world.acme_org.customer, name="asleep")
    Organization.objects.filter(pk=sleepy.pk).update(is_active=False)
    names = [f.organization.name for f in staff_summary.overview(support_user)]
    assert names == ["acme-prod", "globex-prod", "calm-prod", "asleep"]
    by_name = [f.organization.name for f in staff_summary.overview(support_user, "name")]
    assert by_name == ["acme-prod", "asleep", "calm-prod", "globex-prod"]
    by_sync = [f.organization.name for f in staff_summary.overview(support_user, "sync")]
    assert by_sync[:2] in (["globex-prod", "asleep"], ["asleep", "globex-prod"])  # never synced


def test_registered_hosts_over_time_follow_registrations_and_retirements(world: World) -> None:
    history = staff_summary.host_history(world.acme_org, 90)
    counts = dict(history.days)
    assert len(history.days) == 90
    assert history.first == (ago(89), 4)  # w1, w2, p1 and r1 (r3 had gone already)
    assert (counts[ago(51)], counts[ago(50)]) == (4, 5)  # r2 registered
    assert counts[ago(40)] == 6  # m1
    assert counts[ago(20)] == 5  # r2 retired
    assert counts[ago(10)] == 6  # s1
    assert counts[ago(5)] == 5  # r1 retired
    # Today's figure is the hosts registered now, less u1 whose registration time is unknown.
    assert history.last == (TODAY, 5)
    assert history.undated == 1
    assert history.peak == (ago(6), 6)


def test_cases_per_day_by_the_worst_severity_reached(world: World) -> None:
    days = {day.day: day for day in staff_summary.cases_per_day(world.acme_org, 30)}
    assert len(days) == 30
    assert days[ago(3)].by_severity == {"critical": 1, "warning": 2, "unknown": 1}
    assert days[ago(2)].total == 0
    assert days[ago(1)].by_severity == {"critical": 1}
    assert days[TODAY].by_severity == {"unknown": 1}  # closed without a timeline
    assert sum(day.total for day in days.values()) == 6  # "old" opened 40 days ago


def test_days_are_the_viewers(world: World) -> None:
    with timezone.override("UTC"):
        days = {day.day: day.total for day in staff_summary.cases_per_day(world.acme_org, 30)}
    assert days[ago(1)] == 2  # "late" opened at 15:30 UTC yesterday
    assert days[TODAY] == 0


# --- Pages ---------------------------------------------------------------------------------------
def test_anonymous_visitor_is_sent_to_log_in(client: Client, acme_org: Organization) -> None:
    for url in (URL, f"{URL}{acme_org.code}/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_customers_get_not_found(login: Login, alice: User, acme_org: Organization) -> None:
    client = login(alice)
    assert client.get(URL).status_code == 404
    assert client.get(f"{URL}{acme_org.code}/").status_code == 404


def test_unknown_organization_is_not_found(login: Login, support_user: User) -> None:
    assert login(support_user).get(f"{URL}00000000-0000-0000-0000-000000000000/").status_code == 404


@pytest.mark.parametrize("who", ["support_user", "sales_user", "superuser"])
def test_staff_see_the_overview(
    world: World, login: Login, who: str, request: pytest.FixtureRequest
) -> None:
    response = login(request.getfixturevalue(who)).get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert f'href="{URL}{world.acme_org.code}/"' in page
    assert "Mackerel unreachable: connection refused" in page
    for name in ("acme-prod", "globex-prod", "calm-prod", "Acme", "Globex"):
        assert name in page
    assert page.index("acme-prod") < page.index("globex-prod") < page.index("calm-prod")


def test_overview_can_be_sorted(world: World, login: Login, support_user: User) -> None:
    page = login(support_user).get(URL, {"sort": "name"}).content.decode()
    assert page.index("acme-prod") < page.index("calm-prod") < page.index("globex-prod")
    assert 'aria-sort="ascending"' in page
    assert login(support_user).get(URL, {"sort": "nonsense"}).context["sort"] == "trouble"


@pytest.mark.parametrize("who", ["support_user", "sales_user"])
def test_staff_see_an_organization_in_detail(
    world: World, login: Login, who: str, request: pytest.FixtureRequest
) -> None:
    user = request.getfixturevalue(who)
    user.language = "en"
    user.save()
    response = login(user).get(f"{URL}{world.acme_org.code}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('role="img"') == 2
    assert re.search(r"<polyline class=\"chart-line\" points=\"[\d., ]+\"", page)
    assert page.count('<rect class="chart-bar') == 5  # day -3: three severities; -1; today
    assert "4 hosts on 2026-08-27, 5 on 2026-11-24; at most 6, on 2026-11-18." in page
    assert "6 cases opened; the most in a day, 4, on 2026-11-21." in page
    assert "gone@acme.example" in page
    assert "550 5.1.1 no such user" in page
    assert "connection refused by api.mackerelio.com" in page
    assert "2026-11-24 11:00:00" in page  # the failed run, in Tokyo time
    assert "old-" not in page
    assert "globex" not in page.lower()


def test_pages_are_structured_for_assistive_technology(
    world: World, login: Login, support_user: User
) -> None:
    client = login(support_user)
    for url in (URL, f"{URL}{world.acme_org.code}/", f"{URL}{world.calm.code}/"):
        accessibility.check(client.get(url).content.decode())


def test_times_are_in_the_viewers_time_zone(world: World, login: Login, support_user: User) -> None:
    support_user.time_zone = "UTC"
    support_user.save()
    page = login(support_user).get(f"{URL}{world.acme_org.code}/").content.decode()
    assert "2026-11-24 02:00:00" in page  # 11:00 in Tokyo
    assert "2026-11-24 11:00:00" not in page


def test_summary_is_linked_from_navigation_coverage_and_admin(
    world: World, login: Login, support_user: User, sales_user: User, alice: User
) -> None:
    assert f'href="{URL}"' in login(support_user).get("/").content.decode()
    assert URL not in login(alice).get("/").content.decode()
    coverage_page = login(support_user).get("/staff/coverage/").content.decode()
    assert f'href="{URL}"' in coverage_page
    assert f'href="{URL}{world.acme_org.code}/"' in coverage_page
    admin = login(sales_user)
    change = admin.get(f"/admin/orgs/organization/{world.acme_org.pk}/change/")
    assert f'href="{URL}{world.acme_org.code}/"' in change.content.decode()
    assert f'href="{URL}"' in admin.get("/admin/orgs/organization/").content.decode()


# --- Cost ----------------------------------------------------------------------------------------
def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries.captured_queries)


def _grow(world: World, globex: Customer) -> None:
    """Many more hosts and cases (open and closed, with timelines), and another organization."""
    org = world.acme_org
    hosts = make_hosts(org, 300, mackerel_created_at=at(30))
    Host.objects.filter(pk__in=[h.pk for h in hosts[:50]]).update(is_retired=True, retired_at=at(3))
    cases = make_cases(org, 400, hosts=hosts, start=at(20))
    make_cases(org, 200, start=at(10), prefix="closed", is_open=False)
    CaseEvent.objects.bulk_create(
        CaseEvent(
            customer=org.customer,
            case=case,
            kind="opened",
            severity=case.severity,
            source="webhook",
            occurred_at=case.opened_at,
        )
        for case in cases
    )
    more = Organization.objects.create(customer=globex, name="more-prod")
    make_hosts(more, 100)
    make_cases(more, 100)


# Session, user, OTP device; organizations, hosts, open cases; routes, their contacts, uncovered
# services, uncovered hosts, hosts of organizations without routes; bouncing contacts.
OVERVIEW_QUERIES = 12
# Session, user, OTP device, organization; hosts, open cases; the coverage report (8); sync runs;
# host history (3); cases per day; the viewer's permissions (2).
DETAIL_QUERIES = 20


def test_query_count_does_not_grow_with_hosts_and_cases(
    world: World, login: Login, support_user: User, globex: Customer
) -> None:
    client = login(support_user)
    detail = f"{URL}{world.acme_org.code}/"
    small = (_queries(client, URL), _queries(client, detail))
    _grow(world, globex)
    large = (_queries(client, URL), _queries(client, detail))
    assert small == large
    assert large[0] <= OVERVIEW_QUERIES
    assert large[1] <= DETAIL_QUERIES
    assert staff_summary.host_history(world.acme_org).last == (TODAY, 5 + 250)
