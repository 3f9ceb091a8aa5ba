"""SendGrid v3: `POST /v3/mail/send` as anymail's SendGrid backend sends it, and its Event Webhook.

anymail sends JSON: `personalizations` (one, or one per recipient for batch sends) carrying
`to`/`cc`/`bcc` and `custom_args.anymail_id` (a UUID anymail generates and reports as the
message id, because SendGrid's 202 says nothing useful), top-level `from`, `reply_to_list`,
`subject`, `content`, `headers`, `custom_args` (metadata), `categories` (tags), `attachments`.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import secrets
import time
from datetime import UTC, datetime
from typing import Any

from mail_sim import addresses
from mail_sim.server import Reply, Request
from mail_sim.store import Attachment, ReceivedMessage
from mail_sim.tracking import READER_USER_AGENT, EventPost

PROVIDER = "sendgrid"
_HELP = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html"
# SendGrid's (and anymail's comments') famously unhelpful answer for wrong value types.
_BAD_REQUEST = {"message": "Bad Request", "field": None, "help": None}
# Top-level keys with a home in ReceivedMessage; the rest go to `options`.
_KNOWN = {
    "personalizations", "from", "reply_to", "reply_to_list", "subject", "content",
    "headers", "custom_args", "categories", "attachments",
}  # fmt: skip


def handle_send(request: Request, *, api_key: str | None) -> tuple[Reply, ReceivedMessage | None]:
    """Answer a send call as SendGrid does, with the message when it is accepted."""
    scheme, _, key = request.header("authorization").partition(" ")
    if scheme.lower() != "bearer" or not key:
        return _errors(401, [{"field": None, "message": "authorization required", "help": None}])
    if api_key is not None and not hmac.compare_digest(key, api_key):
        return _errors(
            401,
            [
                {
                    "field": None,
                    "message": "The provided authorization grant is invalid, expired, or revoked",
                    "help": None,
                }
            ],
        )
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return _errors(400, [_BAD_REQUEST])
    if not isinstance(body, dict):
        return _errors(400, [_BAD_REQUEST])
    errors = _validate(body)
    if errors:
        return _errors(400, errors)
    message = _message(body)
    return Reply(202, b"", {"X-Message-Id": message.message_id}), message


def error_reply(status: int) -> Reply:
    return _errors(status, [{"field": None, "message": "internal error", "help": None}])[0]


def rate_limit_reply(retry_after: int) -> Reply:
    reply, _ = _errors(429, [{"field": None, "message": "too many requests"}])
    reply.headers.update(
        {
            "Retry-After": str(retry_after),
            "X-RateLimit-Limit": "600",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(int(time.time()) + retry_after),
        }
    )
    return reply


def _errors(status: int, errors: list[dict[str, Any]]) -> tuple[Reply, None]:
    return Reply.json(status, {"errors": errors}), None


def _error(message: str, field: str, anchor: str) -> dict[str, Any]:
    return {"message": message, "field": field, "help": f"{_HELP}#{anchor}"}


def _validate(body: dict[str, Any]) -> list[dict[str, Any]]:
    """SendGrid's checks, reporting every problem at once as it does."""
    errors = _validate_personalizations(body.get("personalizations"))
    errors += _validate_from(body.get("from"))
    has_template = bool(body.get("template_id"))
    personalizations = body.get("personalizations") or [{}]
    if not (has_template or body.get("subject") or all(_subject(p) for p in personalizations)):
        errors.append(
            _error(
                "The subject is required. You can get around this requirement if you use a "
                "template with a subject defined or if every personalization has a subject "
                "defined.",
                "subject",
                "message.subject",
            )
        )
    errors += _validate_content(body.get("content"), has_template)
    for index, reply_to in enumerate(body.get("reply_to_list") or []):
        if not addresses.is_valid(_email(reply_to)):
            errors.append(
                _error("Does not contain a valid address.", f"reply_to_list.{index}.email", "")
            )
    if not _all_strings(body.get("custom_args")) or not _all_strings(body.get("headers")):
        errors.append(_BAD_REQUEST)
    return errors


def _validate_personalizations(personalizations: Any) -> list[dict[str, Any]]:
    if not isinstance(personalizations, list) or not personalizations:
        return [
            _error(
                "The personalizations field is required and must have at least one "
                "personalization.",
                "personalizations",
                "-Personalizations-Errors",
            )
        ]
    errors = []
    for index, personalization in enumerate(personalizations):
        if not isinstance(personalization, dict) or not personalization.get("to"):
            errors.append(
                _error(
                    "The to array is required for all personalization objects, and must have "
                    "at least one email object with a valid email address.",
                    f"personalizations.{index}.to",
                    "message.personalizations.to",
                )
            )
            continue
        for kind in ("to", "cc", "bcc"):
            for position, recipient in enumerate(personalization.get(kind) or []):
                if not addresses.is_valid(_email(recipient)):
                    errors.append(
                        _error(
                            "Does not contain a valid address.",
                            f"personalizations.{index}.{kind}.{position}.email",
                            f"message.personalizations.{kind}",
                        )
                    )
        if not _all_strings(personalization.get("custom_args")):
            errors.append(_BAD_REQUEST)
    return errors


def _validate_from(from_email: Any) -> list[dict[str, Any]]:
    if not isinstance(from_email, dict) or not from_email.get("email"):
        return [
            _error(
                "The from object must be provided for every email send. It is an object that "
                'requires the email parameter, but may also contain a name parameter.  e.g. {"'
                'email" : "example@example.com"}  or {"email" : "example@example.com", "name" : '
                '"Example Recipient"}.',
                "from.email",
                "message.from",
            )
        ]
    if not addresses.is_valid(_email(from_email)):
        return [_error("The from email does not contain a valid address.", "from.email", "")]
    return []


def _validate_content(content: Any, has_template: bool) -> list[dict[str, Any]]:
    if not content:
        if has_template:
            return []
        return [
            _error(
                "Unless a valid template_id is provided, the content parameter is required. "
                "There must be at least one defined content block. We typically suggest both "
                "text/plain and text/html blocks are included, but only one block is required.",
                "content",
                "message.content",
            )
        ]
    return [
        _error(
            "The content value must be a string at least one character in length.",
            f"content.{index}.value",
            "message.content.value",
        )
        for index, block in enumerate(content)
        if not isinstance(block, dict)
        or not isinstance(block.get("value"), str)
        or not block["value"]
    ]


def _all_strings(mapping: Any) -> bool:
    return mapping is None or (
        isinstance(mapping, dict) and all(isinstance(v, str) for v in mapping.values())
    )


def _email(obj: Any) -> str:
    return (
        obj.get("email", "") if isinstance(obj, dict) and isinstance(obj.get("email"), str) else ""
    )


def _subject(personalization: Any) -> bool:
    return isinstance(personalization, dict) and bool(personalization.get("subject"))


def _formatted(obj: dict[str, Any]) -> str:
    return addresses.formatted(obj.get("name"), obj["email"])


def _message(body: dict[str, Any]) -> ReceivedMessage:
    personalizations: list[dict[str, Any]] = body["personalizations"]
    message_id = _x_message_id()
    metadata = dict(body.get("custom_args") or {})
    # Personalization custom_args override the message's, per SendGrid; anymail_id is
    # the id anymail reports, so it is kept apart from the metadata Tairyo set.
    base_anymail_id = metadata.pop("anymail_id", None)
    recipient_ids: dict[str, str] = {}
    recipient_metadata: dict[str, dict[str, Any]] = {}
    for personalization in personalizations:
        custom_args = dict(personalization.get("custom_args") or {})
        anymail_id = custom_args.pop("anymail_id", base_anymail_id)
        for kind in ("to", "cc", "bcc"):
            for recipient in personalization.get(kind) or []:
                email = recipient["email"].lower()
                if anymail_id:
                    recipient_ids[email] = anymail_id
                if custom_args:
                    recipient_metadata[email] = {**metadata, **custom_args}
    reply_to = body.get("reply_to_list") or ([body["reply_to"]] if body.get("reply_to") else [])
    return ReceivedMessage(
        provider=PROVIDER,
        message_id=message_id,
        from_email=_formatted(body["from"]),
        to=_recipients(personalizations, "to"),
        cc=_recipients(personalizations, "cc"),
        bcc=_recipients(personalizations, "bcc"),
        reply_to=[_formatted(r) for r in reply_to],
        subject=body.get("subject") or _subject_of(personalizations),
        text=_content(body, "text/plain"),
        html=_content(body, "text/html"),
        headers=dict(body.get("headers") or {}),
        metadata=metadata,
        recipient_metadata=recipient_metadata,
        tags=list(body.get("categories") or []),
        received_at=datetime.now(UTC),
        recipient_message_ids=recipient_ids,
        attachments=[_attachment(a) for a in body.get("attachments") or []],
        options={key: value for key, value in body.items() if key not in _KNOWN},
        raw=body,
    )


def _recipients(personalizations: list[dict[str, Any]], kind: str) -> list[str]:
    return [_formatted(r) for p in personalizations for r in p.get(kind) or []]


def _subject_of(personalizations: list[dict[str, Any]]) -> str:
    return next((p["subject"] for p in personalizations if p.get("subject")), "")


def _content(body: dict[str, Any], mimetype: str) -> str | None:
    return next((c["value"] for c in body.get("content") or [] if c.get("type") == mimetype), None)


def _attachment(attachment: dict[str, Any]) -> Attachment:
    try:
        content = base64.b64decode(attachment.get("content", ""), validate=True)
    except binascii.Error:
        content = b""
    return Attachment(
        filename=attachment.get("filename", ""),
        content_type=attachment.get("type", "application/octet-stream"),
        content=content,
        inline=attachment.get("disposition") == "inline",
        content_id=attachment.get("content_id"),
    )


def _x_message_id() -> str:
    # SendGrid's X-Message-Id is 22 URL-safe base64 characters, e.g. W9mzxcOqQIKfSVRxqt1s1g.
    return secrets.token_urlsafe(16)[:22]


def build_events(message: ReceivedMessage, event: str, recipients: list[str]) -> list[EventPost]:
    """One Event Webhook POST carrying a JSON array with an event per recipient."""
    records = [_event_record(message, event, recipient) for recipient in recipients]
    return [
        EventPost(
            provider=PROVIDER,
            event=event,
            message_id=message.message_id,
            recipients=tuple(recipients),
            body=json.dumps(records).encode("utf-8"),
        )
    ]


def _event_record(message: ReceivedMessage, event: str, recipient: str) -> dict[str, Any]:
    # SendGrid flattens custom_args into each event; anymail recovers metadata as "every
    # key it doesn't know", so only keys anymail knows are added next to them.
    record: dict[str, Any] = dict(message.metadata_for(recipient))
    if recipient.lower() in message.recipient_message_ids:
        record["anymail_id"] = message.message_id_for(recipient)
    record.update(
        {
            "email": recipient,
            "timestamp": int(time.time()),
            "sg_event_id": secrets.token_urlsafe(16)[:22],
            "sg_message_id": f"{message.message_id}.filterdrecv-{secrets.token_hex(4)}-0.0",
            "smtp-id": f"<{message.message_id}@ismtpd-mailsim>",
        }
    )
    if message.tags:
        record["category"] = message.tags
    record.update(_EVENT_DETAILS[event](message))
    return record


_EVENT_DETAILS: dict[str, Any] = {
    "queued": lambda m: {"event": "processed"},
    "delivered": lambda m: {"event": "delivered", "response": "250 2.0.0 OK", "tls": 1},
    "deferred": lambda m: {
        "event": "deferred",
        "response": "451 4.3.0 Temporary failure, please try again later",
        "attempt": "1",
    },
    "bounced": lambda m: {
        "event": "bounce",
        "type": "bounce",
        "status": "5.1.1",
        "reason": "550 5.1.1 The email account that you tried to reach does not exist",
    },
    "rejected": lambda m: {"event": "dropped", "reason": "Bounced Address", "status": "5.0.0"},
    "opened": lambda m: {"event": "open", "useragent": READER_USER_AGENT, "ip": "127.0.0.1"},
    "clicked": lambda m: {
        "event": "click",
        "url": m.first_link(),
        "useragent": READER_USER_AGENT,
        "ip": "127.0.0.1",
    },
    "complained": lambda m: {"event": "spamreport"},
    "unsubscribed": lambda m: {"event": "unsubscribe"},
}
