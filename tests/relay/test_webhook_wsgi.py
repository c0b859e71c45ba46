"""The WSGI entry point gunicorn serves: Meta's deliveries are answered before Django's own
request handling, with the same checks; everything else goes to Django."""

import io

import pytest
from django.db import DEFAULT_DB_ALIAS, close_old_connections, connection, connections

from config.wsgi import application
from relay.models import WebhookPayload
from tests.relay import wa

PATH = "/webhooks/whatsapp/"


def call(method="POST", path=PATH, body=b"", signature=None, host="testserver", **extra):
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": host,
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/json",
        **extra,
    }
    if signature is not None:
        environ["HTTP_X_HUB_SIGNATURE_256"] = signature
    answer = {}

    def start_response(status, headers):
        answer["status"], answer["headers"] = status, dict(headers)

    answer["body"] = b"".join(application(environ, start_response))
    return answer


@pytest.fixture(autouse=True)
def keep_the_test_connection(monkeypatch):
    """As Django's test client does: closing connections after a request would close the
    test's own, inside its transaction."""
    monkeypatch.setattr("relay.webhooks.wsgi.close_old_connections", lambda: None)


@pytest.fixture
def body() -> bytes:
    return wa.encode(wa.envelope("1001", messages=[wa.message("+14155550123")]))


def test_a_signed_delivery_is_stored_then_acknowledged(db, body):
    answer = call(body=body, signature=wa.sign(body))

    assert (answer["status"], answer["body"]) == ("200 OK", b"ok")
    assert answer["headers"]["X-Content-Type-Options"] == "nosniff"
    assert WebhookPayload.objects.get().body == body.decode()


@pytest.mark.parametrize(
    ("changes", "status", "text"),
    [
        ({"signature": "sha256=wrong"}, "401 Unauthorized", b"invalid signature"),
        ({"signature": None}, "401 Unauthorized", b"invalid signature"),
        ({"body": b"[]", "signature": wa.sign(b"[]")}, "400 Bad Request", b"not a webhook"),
        ({"host": "evil.example.com"}, "400 Bad Request", b"host not allowed"),
    ],
    ids=["wrong-signature", "no-signature", "not-a-webhook", "unknown-host"],
)
def test_a_delivery_that_fails_a_check_is_refused_and_not_stored(db, body, changes, status, text):
    arguments = {"body": body, "signature": wa.sign(body)} | changes

    answer = call(**arguments)

    assert answer["status"] == status and text in answer["body"]
    assert not WebhookPayload.objects.exists()


def test_a_body_larger_than_meta_sends_is_refused(db, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10
    big = b"{" + b" " * 20 + b"}"

    assert call(body=big, signature=wa.sign(big))["status"] == "413 Content Too Large"


def test_plain_http_is_redirected_when_the_site_is_https_only(db, body, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

    plain = call(body=body, signature=wa.sign(body))
    behind_tls = call(body=body, signature=wa.sign(body), HTTP_X_FORWARDED_PROTO="https")

    assert plain["status"].startswith("301") and plain["headers"]["Location"].startswith("https")
    assert behind_tls["status"] == "200 OK"


def test_a_delivery_that_cannot_be_stored_is_a_500_without_details(db, body, monkeypatch):
    def unavailable(*args, **kwargs):
        raise RuntimeError("database is down at 10.0.0.5")

    monkeypatch.setattr("relay.services.webhooks.insert_fast", unavailable)

    answer = call(body=body, signature=wa.sign(body))

    assert answer["status"] == "500 Internal Server Error"
    assert b"10.0.0.5" not in answer["body"]


@pytest.mark.django_db(transaction=True)
def test_a_connection_lost_between_deliveries_costs_one_answer_and_is_replaced(
    body, monkeypatch, caplog
):
    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL backend is terminated from another connection")
    monkeypatch.setattr("relay.webhooks.wsgi.close_old_connections", close_old_connections)
    assert call(body=body, signature=wa.sign(body))["status"] == "200 OK"
    other = connections.create_connection(DEFAULT_DB_ALIAS)
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [connection.connection.info.backend_pid])
    other.close()

    lost = call(body=body, signature=wa.sign(body))
    again = call(body=body, signature=wa.sign(body))

    assert lost["status"] == "500 Internal Server Error"
    assert "could not be stored" in caplog.text
    assert again["status"] == "200 OK"
    assert WebhookPayload.objects.count() == 2


def test_the_handshake_and_every_other_page_go_to_django(db, settings):
    handshake = call(
        method="GET",
        QUERY_STRING="hub.mode=subscribe&hub.verify_token=test-verify-token&hub.challenge=42",
    )
    schema = call(method="GET", path="/api/schema/")

    assert (handshake["status"], handshake["body"]) == ("200 OK", b"42")
    assert schema["status"] == "200 OK" and b"openapi" in schema["body"]
