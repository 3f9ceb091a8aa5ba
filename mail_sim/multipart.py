"""Form bodies as Mailgun's send API receives them: multipart/form-data or urlencoded.

requests (and so anymail) sends `application/x-www-form-urlencoded` when a message has no
attachments and `multipart/form-data` when it has, so both must parse to the same fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote

# `name="value"` or `name=token`; urllib3 2.x follows the WHATWG form encoding, which
# percent-encodes `"`, CR and LF inside quoted values and leaves backslashes alone.
_PARAM = re.compile(r';\s*([\w.*-]+)\s*=\s*(?:"([^"]*)"|([^;\s]*))')
_WHATWG_ESCAPES = {"%22": '"', "%0A": "\n", "%0D": "\r", "%0a": "\n", "%0d": "\r"}


class FormError(ValueError):
    """The body does not parse as the form its Content-Type announces."""


@dataclass(frozen=True)
class FormField:
    """One form field; `filename` is set for file parts, whose `data` is the raw bytes."""

    name: str
    data: bytes
    filename: str | None = None
    content_type: str | None = None

    @property
    def value(self) -> str:
        return self.data.decode("utf-8", errors="replace")


def parse_form(content_type: str, body: bytes) -> list[FormField]:
    """Parse a form body into fields, keeping repeated names in order."""
    mimetype, params = parse_header(content_type)
    if mimetype == "multipart/form-data":
        boundary = params.get("boundary")
        if not boundary:
            raise FormError("multipart/form-data without a boundary")
        return parse_multipart(body, boundary)
    if mimetype in ("application/x-www-form-urlencoded", ""):
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError as err:
            raise FormError("urlencoded body is not UTF-8") from err
        return [FormField(name, value.encode("utf-8")) for name, value in pairs]
    raise FormError(f"unsupported Content-Type {mimetype!r}")


def parse_header(value: str) -> tuple[str, dict[str, str]]:
    """Split `type/sub; a="b"; c=d` into the lowercased first token and its parameters."""
    first, _, rest = value.partition(";")
    params: dict[str, str] = {}
    for match in _PARAM.finditer(";" + rest):
        name, quoted, token = match.group(1).lower(), match.group(2), match.group(3)
        raw = quoted if quoted is not None else token
        if name.endswith("*"):
            # RFC 2231/5987 `filename*=utf-8''na%C3%AFve.txt`, as some clients send.
            _charset, _, encoded = raw.partition("''")
            params[name[:-1]] = unquote(encoded or raw)
        else:
            params.setdefault(name, _unescape_whatwg(raw))
    return first.strip().lower(), params


def parse_multipart(body: bytes, boundary: str) -> list[FormField]:
    delimiter = b"--" + boundary.encode("latin-1")
    chunks = body.split(delimiter)
    if len(chunks) < 3:
        raise FormError("multipart body has no parts")
    fields = []
    # chunks[0] is the preamble; the part after the closing `--boundary--` is the epilogue.
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break
        fields.append(_parse_part(chunk))
    else:
        raise FormError("multipart body is missing its closing boundary")
    return fields


def _parse_part(chunk: bytes) -> FormField:
    # Each part sits between the CRLF that ends the delimiter line and the CRLF that
    # precedes the next delimiter; those two CRLFs belong to the framing, not the data.
    if not chunk.startswith(b"\r\n") or not chunk.endswith(b"\r\n"):
        raise FormError("multipart part is not framed by CRLF")
    head, sep, data = chunk[2:-2].partition(b"\r\n\r\n")
    if not sep:
        # A part with no headers at all starts straight with the blank line.
        if not chunk[2:].startswith(b"\r\n"):
            raise FormError("multipart part has no header/body separator")
        head, data = b"", chunk[4:-2]
    headers = {}
    for line in head.decode("utf-8", errors="replace").split("\r\n"):
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    disposition, params = parse_header(headers.get("content-disposition", ""))
    if disposition != "form-data" or "name" not in params:
        raise FormError("multipart part without `Content-Disposition: form-data; name=...`")
    return FormField(
        name=params["name"],
        data=data,
        filename=params.get("filename"),
        content_type=headers.get("content-type"),
    )


def _unescape_whatwg(value: str) -> str:
    return re.sub(r"%(22|0[AaDd])", lambda m: _WHATWG_ESCAPES[m.group(0)], value)
