"""The API never answers 500 to what a client sends: NUL characters, numbers out of range,
bodies that are not JSON. Each is a 4xx that says what is wrong, and changes nothing."""

import pytest

from relay.models import MaskingPool, RelaySession


@pytest.fixture
def sessions(open_session):
    return [open_session(f"BK-{n}", customer=f"+1415555040{n}") for n in range(3)]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/sessions/?external_ref=%00",
        "/api/v1/sessions/?status=open%00",
        "/api/v1/templates/?name=%00",
        "/api/v1/partners/loc%00a/",
        "/api/v1/sessions/1%00/",
        "/api/v1/numbers/?pool=1%00",
    ],
)
def test_nul_in_an_address_is_a_400(api, sessions, url):
    response = api.get(url)

    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("limit=99999999999999999999", "limit"),
        ("limit=0", "limit"),
        ("limit=lots", "limit"),
        ("offset=99999999999999999999", "offset"),
        ("offset=-1", "offset"),
    ],
)
def test_paging_out_of_range_is_a_400_naming_the_parameter(api, sessions, query, name):
    response = api.get(f"/api/v1/sessions/?{query}")

    assert response.status_code == 400
    assert "whole number" in response.json()[name][0]


def test_paging_within_range_still_pages(api, sessions):
    page = api.get("/api/v1/sessions/?limit=2&offset=1").json()

    assert page["count"] == 3 and len(page["results"]) == 2


@pytest.mark.parametrize(
    "body",
    [
        {"name": "a\u0000b"},
        {"name": "x", "partner": "loc\u0000a"},
        {"name": "x", "notice_template": {"name": "n\u0000", "language": "en"}},
        {"name\u0000": "x"},
    ],
)
def test_nul_in_a_body_is_a_400_and_creates_nothing(api, db, body):
    response = api.post("/api/v1/pools/", body, format="json")

    assert response.status_code == 400
    assert "NUL" in str(response.json())
    assert not MaskingPool.objects.exists()


def test_nul_in_a_session_request_is_a_400(api, pool, partner):
    body = {"external_ref": "BK-1", "customer": {"phone": "+14155550123"}, "partner": "lo\u0000"}

    response = api.post("/api/v1/sessions/", body, format="json")

    assert response.status_code == 400
    assert not RelaySession.objects.exists()


def test_ids_beyond_64_bits_are_not_found_not_500(api, pool, partner):
    body = {
        "external_ref": "BK-1",
        "customer": {"phone": "+14155550123"},
        "partner": partner.code,
        "pool": 99999999999999999999,
    }

    created = api.post("/api/v1/sessions/", body, format="json")
    fetched = api.get("/api/v1/sessions/99999999999999999999/")

    assert created.status_code == 400 and "pool" in created.json()
    assert fetched.status_code == 404


def test_only_json_is_taken_and_given(api, db):
    form = api.post("/api/v1/pools/", {"name": "x"}, format="multipart")
    html = api.get("/api/v1/pools/", HTTP_ACCEPT="text/html")

    assert form.status_code == 415
    assert html.status_code == 406


@pytest.fixture
def schema(api):
    return api.get("/api/schema/?format=json").json()


def declared(schema, method: str, path: str) -> set[str]:
    return set(schema["paths"][path][method]["responses"])


def test_the_schema_declares_what_each_endpoint_answers(schema):
    messages = schema["paths"]["/api/v1/sessions/{id}/messages/"]["post"]["responses"]["201"]
    assert messages["content"]["application/json"]["schema"]["type"] == "array"  # not a page
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"400", "401"} <= codes, (method, path)
            assert ("404" in codes) == ("{" in path), (method, path)
    assert {"409", "422"} <= declared(schema, "post", "/api/v1/sessions/")
    assert "409" in declared(schema, "post", "/api/v1/sessions/{id}/close/")


def test_errors_met_in_practice_are_declared(api, schema, open_session):
    session = open_session()
    api.post(f"/api/v1/sessions/{session.pk}/close/")
    answers = [
        ("post", "/api/v1/sessions/{id}/close/", api.post(f"/api/v1/sessions/{session.pk}/close/")),
        (
            "post",
            "/api/v1/sessions/{id}/messages/",
            api.post(f"/api/v1/sessions/{session.pk}/messages/", {"to": "customer", "text": "x"}),
        ),
        ("get", "/api/v1/sessions/{id}/", api.get("/api/v1/sessions/0/")),
        ("get", "/api/v1/sessions/", api.get("/api/v1/sessions/?limit=0")),
        ("post", "/api/v1/pools/", api.post("/api/v1/pools/", "[", content_type="text/plain")),
    ]
    for method, path, response in answers:
        assert response.status_code >= 400
        assert str(response.status_code) in declared(schema, method, path), (path, response)


def test_each_api_key_has_its_own_rate_limit(db, settings, monkeypatch):
    from rest_framework.test import APIClient

    from relay.api.authentication import api_key_create
    from relay.api.throttling import ApiKeyRateThrottle

    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "2/minute"})
    clients = []
    for name in ("busy", "quiet"):
        _, key = api_key_create(name=name)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        clients.append(client)
    busy, quiet = clients

    answers = [busy.get("/api/v1/pools/").status_code for _ in range(3)]

    assert answers == [200, 200, 429]
    limited = busy.get("/api/v1/pools/")
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    assert "throttled" in limited.json()["detail"].lower()
    assert quiet.get("/api/v1/pools/").status_code == 200
