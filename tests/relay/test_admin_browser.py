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
