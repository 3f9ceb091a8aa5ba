"""The form parser against bodies encoded by requests, the library anymail sends with."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from mail_sim.multipart import FormError, parse_form, parse_header


def encode(data: Any, files: Any = None) -> tuple[str, bytes]:
    prepared = requests.Request("POST", "http://127.0.0.1/", data=data, files=files).prepare()
    body = prepared.body
    assert isinstance(body, bytes | str)
    return str(prepared.headers["Content-Type"]), body if isinstance(body, bytes) else body.encode()


def test_urlencoded_keeps_repeated_fields_in_order() -> None:
    content_type, body = encode(
        {"to": ["a@example.com", "b@example.com"], "subject": "Ünïcode & ="}
    )

    fields = parse_form(content_type, body)

    assert [(f.name, f.value) for f in fields] == [
        ("to", "a@example.com"),
        ("to", "b@example.com"),
        ("subject", "Ünïcode & ="),
    ]


def test_multipart_keeps_binary_files_byte_for_byte() -> None:
    payload = b"\r\n--not-a-boundary\r\n\x00\xff\r\n\r\nend\r\n"
    content_type, body = encode(
        {"text": "line one\r\nline two", "v:id": "42"},
        [("attachment", ("report.bin", payload, "application/octet-stream"))],
    )

    fields = {f.name: f for f in parse_form(content_type, body)}

    assert fields["text"].value == "line one\r\nline two"
    assert fields["text"].filename is None
    assert fields["v:id"].value == "42"
    assert fields["attachment"].data == payload
    assert fields["attachment"].filename == "report.bin"
    assert fields["attachment"].content_type == "application/octet-stream"


def test_multipart_filenames_with_quotes_and_non_ascii_survive() -> None:
    content_type, body = encode({}, [("inline", ('räp"ort\\1.png', b"png", "image/png"))])

    [field] = parse_form(content_type, body)

    assert field.filename == 'räp"ort\\1.png'


def test_rfc2231_filename_is_decoded() -> None:
    assert parse_header("form-data; name=\"a\"; filename*=utf-8''na%C3%AFve.txt")[1] == {
        "name": "a",
        "filename": "naïve.txt",
    }


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", b"--x\r\n\r\nvalue\r\n--x--\r\n"),
        (
            "multipart/form-data; boundary=x",
            b"--x\r\nContent-Disposition: form-data\r\n\r\nv\r\n--x--",
        ),
        (
            "multipart/form-data; boundary=x",
            b'--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nv',
        ),
        ("application/json", b"{}"),
    ],
    ids=["no boundary", "part without name", "no closing boundary", "not a form"],
)
def test_malformed_forms_are_refused(content_type: str, body: bytes) -> None:
    with pytest.raises(FormError):
        parse_form(content_type, body)
