"""Meta's webhook, the hot path, answered before Django's request handling: middleware, URL
resolution and request signals cost several times what storing the payload does. The
delivery itself is relay.webhooks.delivery, as in the Django view; every other request
(the handshake included) goes to Django."""

import logging

from django.conf import settings
from django.db import close_old_connections
from django.http.request import split_domain_port, validate_host

from relay.webhooks.delivery import delivery_answer

logger = logging.getLogger(__name__)
PATH = "/webhooks/whatsapp/"
HEADERS = [
    ("Content-Type", "text/plain; charset=utf-8"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
]


def with_webhook_fast_path(django_app):
    def application(environ: dict, start_response):
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "POST":
            return django_app(environ, start_response)
        status, text, extra = _answer(environ)
        start_response(status, [*HEADERS, *extra, ("Content-Length", str(len(text)))])
        return [text]

    return application


def _answer(environ: dict) -> tuple[str, bytes, list]:
    host, _ = split_domain_port(environ.get("HTTP_HOST") or environ.get("SERVER_NAME", ""))
    if not validate_host(host, settings.ALLOWED_HOSTS):
        return "400 Bad Request", b"host not allowed", []
    if settings.SECURE_SSL_REDIRECT and not _secure(environ):
        location = f"https://{environ.get('HTTP_HOST', host)}{PATH}"
        return "301 Moved Permanently", b"", [("Location", location)]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        return "413 Content Too Large", b"body too large", []
    body = environ["wsgi.input"].read(length)
    try:
        code, text = delivery_answer(body=body, signature=environ.get("HTTP_X_HUB_SIGNATURE_256"))
    except Exception:
        logger.exception("webhook delivery could not be stored")
        code, text = 500, "not stored; deliver it again"
    finally:
        close_old_connections()  # what Django does after each request: drop a broken one
    reasons = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 500: "Internal Server Error"}
    return f"{code} {reasons[code]}", text.encode(), []


def _secure(environ: dict) -> bool:
    header = settings.SECURE_PROXY_SSL_HEADER
    if header:
        return environ.get(header[0], "").split(",")[0].strip() == header[1]
    return environ.get("wsgi.url_scheme") == "https"
