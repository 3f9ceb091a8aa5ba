"""Standard Webhooks signatures, checked against the specification's own example."""

from __future__ import annotations

from webhooks import signing

# The example of the Standard Webhooks reference libraries.
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MESSAGE_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = b'{"test": 2432232314}'
EXPECTED = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_signature_matches_the_specification() -> None:
    assert signing.signature(SECRET, MESSAGE_ID, TIMESTAMP, BODY) == EXPECTED


def test_receiver_verification() -> None:
    headers = signing.headers([SECRET], MESSAGE_ID, TIMESTAMP, BODY)
    assert signing.verify(SECRET, headers, BODY, now=TIMESTAMP + 10)
    assert not signing.verify(SECRET, headers, BODY + b" ", now=TIMESTAMP)
    assert not signing.verify(signing.new_secret(), headers, BODY, now=TIMESTAMP)
    assert not signing.verify(SECRET, headers, BODY, now=TIMESTAMP + 301), "replayed too late"
    assert not signing.verify(SECRET, {}, BODY)


def test_rotation_signs_with_both_secrets() -> None:
    new = signing.new_secret()
    headers = signing.headers([new, SECRET], MESSAGE_ID, TIMESTAMP, BODY)
    assert len(headers["webhook-signature"].split()) == 2
    assert signing.verify(SECRET, headers, BODY, now=TIMESTAMP)
    assert signing.verify(new, headers, BODY, now=TIMESTAMP)
