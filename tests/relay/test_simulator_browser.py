"""The phone simulator in a real headless Chromium: htmx sends, polling shows the reply."""

import pytest

from tests.relay.conftest import CUSTOMER, PARTNER, open_windows


@pytest.mark.django_db(transaction=True)
def test_a_message_typed_in_the_simulator_reaches_the_other_phone(
    live_server, settings, open_session, staff_cookie, request
):
    settings.RELAY_PROVIDER = "console"
    open_windows(open_session())
    # The browser starts last: database work after it would run in Playwright's context.
    browser = request.getfixturevalue("browser")
    context = browser.new_context()
    context.add_cookies([staff_cookie])
    customer_phone, partner_phone = context.new_page(), context.new_page()
    customer_phone.goto(f"{live_server.url}/simulator/?phone={CUSTOMER.replace('+', '%2B')}")
    partner_phone.goto(f"{live_server.url}/simulator/?phone={PARTNER.replace('+', '%2B')}")

    customer_phone.fill("input[name=text]", "Is the quiet room free? Call +1 415 555 0123")
    customer_phone.click("button[type=submit] >> text=Send")

    # No reload: the partner's page polls, and the relayed text appears, number hidden.
    partner_phone.get_by_text("Is the quiet room free? Call [number hidden]").wait_for(
        timeout=10_000
    )
    assert customer_phone.input_value("input[name=text]") == ""
    context.close()
