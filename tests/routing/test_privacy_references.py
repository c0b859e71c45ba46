"""What routing knows to be a reference is never hidden by the privacy guard, even when it
is a long run of digits that would otherwise be taken for a phone number."""

import pytest

from relay.privacy import redact
from routing.models import Reference, Rule
from tests.relay.conftest import CUSTOMER, PARTNER, participant, write

TEXT = "88120034551 arrived damaged, call +44 7700 900456"


def test_without_routing_the_digits_are_hidden_as_a_number():
    assert redact(TEXT).text.startswith("[number hidden] arrived damaged")


@pytest.mark.parametrize("known_by", ["reference table", "rule pattern"])
def test_a_code_routing_knows_is_kept_and_the_real_number_still_hidden(
    whatsapp_api, session, post_webhook, known_by
):
    if known_by == "reference table":
        Reference.objects.create(code="88120034551", partner=session.partner)
    else:
        Rule.objects.create(
            name="orders",
            conditions=[{"kind": "regex", "value": r"(?P<order>\b\d{11}\b)"}],
            actions=[{"kind": "add_tag", "value": "order"}],
        )

    write(post_webhook, CUSTOMER, participant(session, "customer").proxy_number, body=TEXT)

    assert whatsapp_api.texts_to(PARTNER) == ["88120034551 arrived damaged, call [number hidden]"]
