"""The stack's own limit for a webhook, to measure Switchboard's beside: check the signature,
parse the JSON, INSERT the body and commit, answer 200. A WSGI app for gunicorn."""

import hashlib
import hmac
import json
import os

import psycopg

SECRET = os.environ.get("WHATSAPP_APP_SECRET", "").encode()
_connection: psycopg.Connection | None = None


def _database() -> psycopg.Connection:
    global _connection
    if _connection is None or _connection.closed:
        _connection = psycopg.connect(os.environ["MINIMAL_DATABASE_URL"])
    return _connection


def application(environ, start_response):
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    expected = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, environ.get("HTTP_X_HUB_SIGNATURE_256", "")):
        start_response("401 Unauthorized", [("Content-Length", "0")])
        return [b""]
    json.loads(body)
    database = _database()
    database.execute("INSERT INTO minimal_webhook (body) VALUES (%s)", (body.decode(),))
    database.commit()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
