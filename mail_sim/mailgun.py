"""Mailgun: `POST /v3/<domain>/messages` as anymail's Mailgun backend sends it, and its webhooks.

anymail puts the message in form fields: `from`, `to`/`cc`/`bcc` (one field per address),
`subject`, `text`, `html`, `h:<Header>` (Reply-To travels as `h:Reply-To`), `v:<key>` for
metadata, `o:tag` and other `o:` options, `recipient-variables` (JSON) for batch sends and
merge data, and `attachment`/`inline` file parts.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import itertools
import json
import re
import secrets
import time
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from mail_sim import addresses
from mail_sim.multipart import FormError, FormField, parse_form
from mail_sim.server import Reply, Request
from mail_sim.store import Attachment, ReceivedMessage
from mail_sim.tracking import READER_USER_AGENT, EventPost

PROVIDER = "mailgun"
_RECIPIENT_VAR = re.compile(r"%recipient\.([^%]+)%")
_counter = itertools.count(1)
# Fields with a home in ReceivedMessage; everything else lands in `options`.
_KNOWN = {"from", "to", "cc", "bcc", "subject", "text", "html", "recipient-variables", "o:tag"}


def handle_send(
    request: Request, domain: str, *, api_key: str | None, domains: frozenset[str] | None
) -> tuple[Reply, ReceivedMessage | None]:
    """Answer a send call as Mailgun does, with the message when it is accepted."""
    if not _authorized(request, api_key):
        return Reply.text(401, "Forbidden"), None
    if domains is not None and domain not in domains:
        # anymail recognizes this exact text and explains the likely region/domain mix-up.
        return Reply.json(404, {"message": f"Domain not found: {domain}"}), None
    try:
        fields = _group(parse_form(request.header("content-type"), request.body))
        message = _message(fields, domain)
    except (FormError, _Rejected) as err:
        return Reply.json(400, {"message": str(err)}), None
    return Reply.json(200, {"id": message.message_id, "message": "Queued. Thank you."}), message


def error_reply(status: int) -> Reply:
    return Reply.json(status, {"message": _PHRASES.get(status, "Internal Server Error")})


def rate_limit_reply(retry_after: int) -> Reply:
    return Reply.json(429, {"message": "Too Many Requests"}, {"Retry-After": str(retry_after)})


_PHRASES = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


class _Rejected(ValueError):
    """A 400 with Mailgun's own wording."""


def _authorized(request: Request, api_key: str | None) -> bool:
    scheme, _, encoded = request.header("authorization").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        user, _, password = base64.b64decode(encoded).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return user == "api" and (api_key is None or hmac.compare_digest(password, api_key))


def _group(fields: list[FormField]) -> dict[str, list[FormField]]:
    grouped: dict[str, list[FormField]] = defaultdict(list)
    for form_field in fields:
        grouped[form_field.name].append(form_field)
    return grouped


def _values(fields: dict[str, list[FormField]], name: str) -> list[str]:
    return [f.value for f in fields.get(name, []) if f.filename is None]


def _last(fields: dict[str, list[FormField]], name: str) -> str | None:
    values = _values(fields, name)
    return values[-1] if values else None


def _addresses(fields: dict[str, list[FormField]], name: str) -> list[str]:
    pairs = addresses.split(_values(fields, name))
    if any(not addresses.is_valid(addr) for _, addr in pairs):
        raise _Rejected(f"{name} parameter is not a valid address. please check documentation")
    return [addresses.formatted(display, addr) for display, addr in pairs]


def _message(fields: dict[str, list[FormField]], domain: str) -> ReceivedMessage:
    if not _values(fields, "from"):
        raise _Rejected("'from' parameter is missing")
    if not _values(fields, "to"):
        raise _Rejected("'to' parameter is missing")
    from_email = ", ".join(_addresses(fields, "from"))
    to, cc, bcc = (_addresses(fields, kind) for kind in ("to", "cc", "bcc"))
    if not any(_values(fields, name) for name in ("text", "html", "amp-html", "template")):
        raise _Rejected("Need at least one of 'text', 'html' or 'template' parameters specified")
    headers = {name[2:]: _last(fields, name) or "" for name in fields if name.startswith("h:")}
    metadata = _custom_data(fields, headers)
    recipient_variables = _recipient_variables(fields)
    message_id = _message_id(domain)
    recipients = [addr.lower() for _, addr in addresses.split(to + cc + bcc)]
    return ReceivedMessage(
        provider=PROVIDER,
        message_id=message_id,
        domain=domain,
        from_email=from_email,
        to=to,
        cc=cc,
        bcc=bcc,
        reply_to=[
            addresses.formatted(name, addr)
            for name, addr in addresses.split([headers.get("Reply-To", "")])
        ],
        subject=_last(fields, "subject") or "",
        text=_last(fields, "text"),
        html=_last(fields, "html"),
        headers=headers,
        metadata=metadata,
        recipient_metadata=_per_recipient(metadata, recipient_variables),
        tags=_values(fields, "o:tag"),
        received_at=datetime.now(UTC),
        recipient_message_ids=dict.fromkeys(recipients, message_id),
        attachments=_attachments(fields),
        options=_options(fields, recipient_variables),
        raw={
            name: [f.value for f in values if f.filename is None] for name, values in fields.items()
        },
    )


def _custom_data(fields: dict[str, list[FormField]], headers: dict[str, str]) -> dict[str, Any]:
    """Mailgun custom data: `h:X-Mailgun-Variables` JSON, then `v:` fields over it."""
    data: dict[str, Any] = {}
    if "X-Mailgun-Variables" in headers:
        try:
            data.update(json.loads(headers["X-Mailgun-Variables"]))
        except (ValueError, TypeError) as err:
            raise _Rejected("X-Mailgun-Variables header is not a valid JSON object") from err
    data.update({name[2:]: _last(fields, name) for name in fields if name.startswith("v:")})
    return data


def _recipient_variables(fields: dict[str, list[FormField]]) -> dict[str, dict[str, Any]]:
    raw = _last(fields, "recipient-variables")
    if raw is None:
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError as err:
        raise _Rejected("recipient-variables parameter is not a valid JSON") from err
    if not isinstance(parsed, dict):
        raise _Rejected("recipient-variables parameter is not a valid JSON")
    return {email.lower(): values for email, values in parsed.items()}


def _per_recipient(
    metadata: dict[str, Any], recipient_variables: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Resolve `%recipient.v:key%` indirections, as anymail sets up for merge_metadata."""
    if not any(isinstance(v, str) and _RECIPIENT_VAR.search(v) for v in metadata.values()):
        return {}

    def resolve(value: Any, variables: dict[str, Any]) -> Any:
        if not isinstance(value, str):
            return value
        return _RECIPIENT_VAR.sub(lambda m: str(variables.get(m.group(1), "")), value)

    return {
        email: {key: resolve(value, variables) for key, value in metadata.items()}
        for email, variables in recipient_variables.items()
    }


def _attachments(fields: dict[str, list[FormField]]) -> list[Attachment]:
    return [
        Attachment(
            filename=f.filename or "",
            content_type=f.content_type or "application/octet-stream",
            content=f.data,
            inline=kind == "inline",
            # Mailgun uses an inline part's filename as its Content-ID.
            content_id=f.filename if kind == "inline" else None,
        )
        for kind in ("attachment", "inline")
        for f in fields.get(kind, [])
    ]


def _options(
    fields: dict[str, list[FormField]], recipient_variables: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    options: dict[str, Any] = {
        name: values[0] if len(values) == 1 else values
        for name in fields
        if name not in _KNOWN
        and not name.startswith(("h:", "v:"))
        and (values := _values(fields, name))
    }
    if recipient_variables:
        options["recipient-variables"] = recipient_variables
    return options


def _message_id(domain: str) -> str:
    # Mailgun's ids look like <20160306015544.116301.25145@example.org>.
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    return f"<{stamp}.{next(_counter)}.{secrets.randbelow(100000):05d}@{domain}>"


def sign(signing_key: str, timestamp: str, token: str) -> str:
    """Mailgun's webhook signature: HMAC-SHA256 of timestamp+token, hex (what anymail checks)."""
    return hmac.new(
        signing_key.encode("ascii"), f"{timestamp}{token}".encode("ascii"), hashlib.sha256
    ).hexdigest()


def build_events(
    message: ReceivedMessage, event: str, recipients: list[str], *, signing_key: str
) -> list[EventPost]:
    """One signed JSON webhook per recipient, the shape Mailgun's 2018+ webhooks use."""
    return [
        EventPost(
            provider=PROVIDER,
            event=event,
            message_id=message.message_id,
            recipients=(recipient,),
            body=json.dumps(
                {
                    "signature": _signature(signing_key),
                    "event-data": _event_data(message, event, recipient),
                }
            ).encode("utf-8"),
        )
        for recipient in recipients
    ]


def _signature(signing_key: str) -> dict[str, str]:
    timestamp = str(int(time.time()))
    token = secrets.token_hex(25)  # 50 hex characters, like Mailgun's
    return {
        "timestamp": timestamp,
        "token": token,
        "signature": sign(signing_key, timestamp, token),
    }


def _event_data(message: ReceivedMessage, event: str, recipient: str) -> dict[str, Any]:
    recipient_domain = recipient.rpartition("@")[2]
    data: dict[str, Any] = {
        "id": secrets.token_urlsafe(16)[:22],
        "timestamp": time.time(),
        "log-level": "info",
        "recipient": recipient,
        "recipient-domain": recipient_domain,
        "tags": message.tags,
        "campaigns": [],
        "user-variables": message.metadata_for(recipient),
        "flags": {"is-routed": False, "is-authenticated": True, "is-test-mode": False},
        "envelope": {
            "transport": "smtp",
            "sender": addresses.split([message.from_email])[0][1],
            "sending-ip": "127.0.0.1",
            "targets": recipient,
        },
        "message": {
            # Mailgun drops the angle brackets here; anymail adds them back.
            "headers": {
                "to": ", ".join(message.to),
                "message-id": message.message_id.strip("<>"),
                "from": message.from_email,
                "subject": message.subject,
            },
            "attachments": [
                {"filename": a.filename, "content-type": a.content_type, "size": len(a.content)}
                for a in message.attachments
            ],
            "size": len(message.text or "") + len(message.html or ""),
        },
    }
    data.update(_EVENT_DETAILS[event](message, recipient_domain))
    return data


def _delivery_status(code: int, text: str, mx: str, **extra: Any) -> dict[str, Any]:
    return {
        "code": code,
        "message": text,
        "description": "",
        "mx-host": f"mx.{mx}",
        "attempt-no": 1,
        "session-seconds": 0.1,
        "tls": True,
        "utf8": True,
        "certificate-verified": True,
        **extra,
    }


_CLIENT: dict[str, Any] = {
    "ip": "127.0.0.1",
    "client-info": {
        "client-type": "browser",
        "client-os": "Linux",
        "device-type": "desktop",
        "client-name": "Firefox",
        "user-agent": READER_USER_AGENT,
    },
    "geolocation": {"country": "JP", "region": "Tokyo", "city": "Tokyo"},
}


_EVENT_DETAILS: dict[str, Any] = {
    "queued": lambda m, mx: {"event": "accepted", "method": "HTTP"},
    "delivered": lambda m, mx: {
        "event": "delivered",
        "delivery-status": _delivery_status(250, "OK", mx),
    },
    "deferred": lambda m, mx: {
        "event": "failed",
        "severity": "temporary",
        "reason": "generic",
        "log-level": "warn",
        "delivery-status": _delivery_status(
            451, "4.3.0 Temporary failure, please try again later", mx, **{"retry-seconds": 600}
        ),
    },
    "bounced": lambda m, mx: {
        "event": "failed",
        "severity": "permanent",
        "reason": "bounce",
        "log-level": "error",
        "delivery-status": _delivery_status(
            550, "5.1.1 The email account that you tried to reach does not exist", mx
        ),
    },
    "rejected": lambda m, mx: {
        "event": "rejected",
        "log-level": "warn",
        "reject": {"reason": "Recipient is on the simulator's reject list", "description": ""},
    },
    "opened": lambda m, mx: {"event": "opened", **_CLIENT},
    "clicked": lambda m, mx: {"event": "clicked", "url": m.first_link(), **_CLIENT},
    "complained": lambda m, mx: {"event": "complained"},
    "unsubscribed": lambda m, mx: {"event": "unsubscribed", **_CLIENT},
}
