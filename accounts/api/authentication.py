"""``Authorization: Bearer <token>`` for the REST API."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from accounts import tokens
from accounts.models import ApiToken, User
from audit import records


class BearerTokenAuthentication(BaseAuthentication):
    """Authenticates an API token; ``request.user`` is the person who made it, ``request.auth``
    the token, whose customer and write flag decide what the request may reach and do."""

    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword:
            return None
        if len(header) != 2:  # noqa: PLR2004 -- the keyword and the token
            raise exceptions.AuthenticationFailed(_("Malformed Authorization header."))
        try:
            plain = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        token = tokens.find(plain)
        # One answer for unknown, expired, revoked and orphaned tokens: nothing to probe.
        if token is None or not self._owner_may_use(token):
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        tokens.touch(token)
        assert token.created_by is not None  # checked by _owner_may_use  # noqa: S101
        # DRF authenticates inside the view, after the audit middleware found nobody logged in.
        records.attribute_to(request, token.created_by, api_token=token.prefix)
        return token.created_by, token

    @staticmethod
    def _owner_may_use(token: ApiToken) -> bool:
        # A token stops working with its maker's account, and with its customer.
        owner = token.created_by
        if owner is None or not owner.is_active:
            return False
        if token.customer is None:
            return owner.is_staff
        return token.customer.is_active

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class BearerTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """Describes the bearer token in the OpenAPI schema."""

    target_class = BearerTokenAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer"}
