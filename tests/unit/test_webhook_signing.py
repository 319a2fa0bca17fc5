"""Webhook signatures are Standard Webhooks': the spec's published example, a receiver's
verification with the library, and secrets sealed so the database alone does not hold them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from qc_app.outbox import signing
from qc_app.outbox.delivery import Policy

# The example of the Standard Webhooks specification (spec/standard-webhooks.md, "Signature
# scheme"): its secret, message id, timestamp and body, and the signature it gives.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_AT = datetime.fromtimestamp(1614265330, UTC)
SPEC_BODY = '{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_specs_example_signs_as_published() -> None:
    headers = signing.headers(secret=SPEC_SECRET, message_id=SPEC_ID, at=SPEC_AT, body=SPEC_BODY)
    assert headers == {
        "webhook-id": SPEC_ID,
        "webhook-timestamp": "1614265330",
        "webhook-signature": SPEC_SIGNATURE,
    }


def test_a_receiver_verifies_a_fresh_signature_and_refuses_a_changed_body() -> None:
    secret = signing.new_secret()
    body = '{"type":"item.failed","data":{"item_code":"QC1"}}'
    headers = signing.headers(secret=secret, message_id="evt_1", at=datetime.now(UTC), body=body)
    assert Webhook(secret).verify(body, headers)["type"] == "item.failed"
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace("QC1", "QC2"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.new_secret()).verify(body, headers)


def test_a_secret_is_sealed_and_opens_only_with_its_key() -> None:
    secret, key = signing.new_secret(), b"k" * 32
    sealed = signing.seal(secret, key)
    assert secret not in sealed and secret.removeprefix("whsec_") not in sealed
    assert signing.unseal(sealed, key) == secret
    with pytest.raises(signing.SecretUnreadable):
        signing.unseal(sealed, b"x" * 32)


@pytest.mark.parametrize(
    ("attempts", "seconds"), [(1, 10), (2, 20), (3, 40), (9, 2560), (10, 3600), (99, 3600)]
)
def test_backoff_doubles_up_to_its_ceiling(attempts: int, seconds: int) -> None:
    assert Policy().backoff(attempts) == timedelta(seconds=seconds)
