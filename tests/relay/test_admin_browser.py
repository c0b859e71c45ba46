"""Admin pages as a person sees them, in a real headless Chromium."""

import pytest


@pytest.mark.django_db(transaction=True)
def test_the_partner_page_fits_a_1280_pixel_screen(live_server, partner, staff_cookie, request):
    browser = request.getfixturevalue("browser")  # last: after the database work
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies([staff_cookie])
    page = context.new_page()

    page.goto(f"{live_server.url}/admin/routing/partner/{partner.pk}/change/")

    assert page.get_by_role("heading", name="Partner contacts").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    context.close()


@pytest.mark.django_db(transaction=True)
def test_pages_run_under_the_content_security_policy(
    live_server, settings, open_session, staff_cookie, request
):
    settings.RELAY_PROVIDER = "console"
    session = open_session()
    browser = request.getfixturevalue("browser")
    context = browser.new_context()
    context.add_cookies([staff_cookie])
    page = context.new_page()
    refused = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security" in message.text else None
        ),
    )
    pages = [
        "/admin/",
        f"/admin/relay/relaysession/{session.pk}/change/",
        "/simulator/?phone=%2B14155550123",
        "/api/docs/",
    ]

    for path in pages:
        response = page.goto(f"{live_server.url}{path}")
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")

    # Swagger UI drew itself, and the simulator's own script runs.
    page.goto(f"{live_server.url}/api/docs/")
    page.get_by_text("Switchboard API").first.wait_for(timeout=10_000)
    page.goto(f"{live_server.url}/simulator/?phone=%2B14155550123")
    page.get_by_role("button", name="Reply").first.click()
    assert page.evaluate("document.activeElement.id") == "id_text"
    assert refused == []
    context.close()
