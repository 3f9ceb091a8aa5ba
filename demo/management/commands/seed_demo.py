"""Fills an empty Tairyo with demo customers, organizations, users and contacts (idempotent)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts import roles
from accounts.models import Customer, Membership, User
from audit import records
from notifications.models import Contact, Route
from orgs.models import Organization

DEMO_PASSWORD = "tairyo-demo"  # noqa: S105 -- printed for the demo; refused in production


@dataclass(frozen=True)
class DemoOrg:
    name: str
    display_name: str
    customer: str


CUSTOMERS = {
    "Sakura Trading": "さくら商事株式会社。基幹系と EC サイトを当社でホスティング。",
    "Globex Japan": "Globex Japan K.K. — web shop and internal tools.",
    "Initech": "Initech — a single staging environment.",
}
ORGANIZATIONS = [
    DemoOrg("sakura-prod", "さくら商事 本番", "Sakura Trading"),
    DemoOrg("sakura-stg", "さくら商事 検証", "Sakura Trading"),
    DemoOrg("globex-prod", "Globex production", "Globex Japan"),
    DemoOrg("globex-dev", "Globex development", "Globex Japan"),
    DemoOrg("initech-stg", "Initech staging", "Initech"),
]
# (e-mail, name, customer, role, language)
CUSTOMER_USERS = [
    ("alice@sakura.example", "Alice (Sakura, admin)", "Sakura Trading", "admin", "ja"),
    ("bob@sakura.example", "Bob (Sakura, viewer)", "Sakura Trading", "viewer", "ja"),
    ("charlie@globex.example", "Charlie (Globex, admin)", "Globex Japan", "admin", "en"),
    ("dave@initech.example", "Dave (Initech, viewer)", "Initech", "viewer", "en"),
]
# (e-mail, name, group or None for a superuser)
STAFF_USERS = [
    ("sales@tairyo.example", "Sales", roles.SALES),
    ("support@tairyo.example", "Support", roles.SUPPORT),
    ("admin@tairyo.example", "Administrator", None),
]
CONTACTS = [
    ("Sakura Trading", "情報システム部", "ops@sakura.example", "ja"),
    ("Sakura Trading", "夜間当番", "oncall@sakura.example", "ja"),
    ("Globex Japan", "Globex NOC", "noc@globex.example", "en"),
    ("Initech", "Initech IT", "it@initech.example", "en"),
]


def demo_webhook_token(org_name: str) -> str:
    """A predictable token, so the demo's simulated Mackerel knows where to post."""
    return f"demo-{org_name}-webhook-token"


def demo_api_key(org_name: str) -> str:
    return f"demo-{org_name}-rw-api-key"


class Command(BaseCommand):
    help = "Create (or bring back) the demo customers, organizations, users and contacts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force", action="store_true", help="Seed even with DJANGO_DEBUG=false."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION and not options["force"]:
            raise CommandError(
                "Refusing to seed demo users with known passwords in production mode "
                "(DJANGO_DEBUG=false); pass --force if this really is a demo."
            )
        with transaction.atomic(), records.by_command("seed_demo"):
            roles.sync_staff_groups()
            customers = self._customers()
            self._organizations(customers)
            self._users(customers)
            self._contacts(customers)
            self._routes()
        self._print_logins()

    def _customers(self) -> dict[str, Customer]:
        return {
            name: Customer.objects.update_or_create(name=name, defaults={"memo": memo})[0]
            for name, memo in CUSTOMERS.items()
        }

    def _organizations(self, customers: dict[str, Customer]) -> None:
        for demo in ORGANIZATIONS:
            org = Organization.objects.filter(name=demo.name).first() or Organization(
                name=demo.name
            )
            org.customer = customers[demo.customer]
            org.display_name = demo.display_name
            org.set_webhook_token(demo_webhook_token(demo.name))
            if not org.has_api_key:
                org.set_api_key(demo_api_key(demo.name))
            org.save()

    def _users(self, customers: dict[str, Customer]) -> None:
        for email, name, customer, role, language in CUSTOMER_USERS:
            user = self._user(email, name, language=language)
            Membership.objects.update_or_create(
                user=user, customer=customers[customer], defaults={"role": role}
            )
        for email, name, group in STAFF_USERS:
            user = self._user(email, name, is_staff=True, is_superuser=group is None)
            if group:
                user.groups.add(roles.group(group))

    def _user(self, email: str, name: str, **fields: Any) -> User:
        user, _ = User.objects.update_or_create(email=email, defaults={"full_name": name, **fields})
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
        return user

    def _contacts(self, customers: dict[str, Customer]) -> None:
        for customer, name, email, language in CONTACTS:
            Contact.objects.update_or_create(
                customer=customers[customer],
                email=email,
                defaults={"name": name, "language": language},
            )

    def _routes(self) -> None:
        """Every organization tells all of its customer's contacts about every change."""
        for org in Organization.objects.filter(name__in=[o.name for o in ORGANIZATIONS]):
            route, _ = Route.objects.update_or_create(
                organization=org,
                name="すべての障害 / every case",
                defaults={"triggers": [choice.value for choice in Route.Trigger]},
            )
            route.contacts.set(Contact.objects.filter(customer_id=org.customer_id))

    def _print_logins(self) -> None:
        base = settings.PORTAL_BASE_URL
        self.stdout.write(self.style.SUCCESS(f"Demo data ready. Open {base}/ and log in as:"))
        for email, name, *_ in CUSTOMER_USERS:
            self.stdout.write(f"  {email:<26} {DEMO_PASSWORD}   {name}")
        for email, name, group in STAFF_USERS:
            where = f"{base}/admin/"
            self.stdout.write(
                f"  {email:<26} {DEMO_PASSWORD}   {name} staff ({group or 'superuser'}) {where}"
            )
