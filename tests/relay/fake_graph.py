"""A stand-in for Meta's Graph API, served on 127.0.0.1 by pytest-httpserver."""

import base64
import hashlib
import itertools
import json
import re
import threading
import time
from collections import deque

from werkzeug import Request, Response

MEDIA_BYTES = b"\x89PNG fake image bytes"
TOKEN = "test-access-token"  # WHATSAPP_ACCESS_TOKEN in the test settings


def _error(status: int, code: int, message: str) -> Response:
    body = {"error": {"message": message, "type": "OAuthException", "code": code}}
    return Response(json.dumps(body), status=status, content_type="application/json")


def b64_sha256(content: bytes) -> str:
    return base64.b64encode(hashlib.sha256(content).digest()).decode()


class FakeGraph:
    def __init__(self, httpserver) -> None:
        self.server = httpserver
        self.sent: list[dict] = []  # every message payload, with the sending number
        self.uploads: list[dict] = []
        self.failures: deque = deque()  # (http status, error code) answered to the next sends
        self.slow_sends = 0
        self.answer_after = 0.0  # seconds every send waits before it is answered
        self.most_in_flight = 0  # the most sends it was answering at once
        self._in_flight = 0
        self._counting = threading.Lock()
        self.media: dict[str, bytes] = {}
        self.media_404_once: set[str] = set()
        self.templates: list[dict] = []  # what WhatsApp Manager holds, listed a page at a time
        self.template_pages_served = 0
        self._ids = itertools.count(1)
        httpserver.expect_request(
            re.compile(r"/v25.0/\w+/messages"), method="POST"
        ).respond_with_handler(self._send)
        httpserver.expect_request(
            re.compile(r"/v25.0/\w+/media"), method="POST"
        ).respond_with_handler(self._upload)
        httpserver.expect_request(
            re.compile(r"/v25.0/media-download/\w+"), method="GET"
        ).respond_with_handler(self._download)
        httpserver.expect_request(
            re.compile(r"/v25.0/\w+/message_templates"), method="GET"
        ).respond_with_handler(self._templates)
        httpserver.expect_request(re.compile(r"/v25.0/\w+"), method="GET").respond_with_handler(
            self._media_info
        )

    # What tests set up
    def fail_next(self, code: int | None, http_status: int = 400, times: int = 1) -> None:
        for _ in range(times):
            self.failures.append((http_status, code))

    def add_media(self, media_id: str, content: bytes = MEDIA_BYTES) -> str:
        self.media[media_id] = content
        return b64_sha256(content)

    # What tests read
    def texts_to(self, phone: str) -> list[str]:
        return [
            p["text"]["body"] for p in self.sent if p.get("to") == phone and p["type"] == "text"
        ]

    def last_to(self, phone: str) -> dict:
        return [p for p in self.sent if p.get("to") == phone][-1]

    def everything_sent_to(self, phone: str) -> str:
        """All message payloads to `phone`, as one string to scan for leaks."""
        return json.dumps([p for p in self.sent if p.get("to") == phone], ensure_ascii=False)

    # Handlers
    def _send(self, request: Request) -> Response:
        with self._counting:
            self._in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self._in_flight)
        try:
            time.sleep(self.answer_after)
            return self._answer_send(request)
        finally:
            with self._counting:
                self._in_flight -= 1

    def _answer_send(self, request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return _error(401, 190, "Invalid OAuth access token")
        if self.failures:
            status, code = self.failures.popleft()
            error = {
                "message": f"(#{code}) error",
                "type": "OAuthException",
                "code": code,
                "error_data": {"details": f"fake error {code}"},
                "fbtrace_id": "A1",
            }
            body = {"error": error} if code is not None else {}
            return Response(json.dumps(body), status=status, content_type="application/json")
        payload = json.loads(request.get_data())
        payload["_from"] = request.path.split("/")[2]
        self.sent.append(payload)
        if self.slow_sends:  # accepted, but the answer comes too late for the client
            self.slow_sends -= 1
            time.sleep(0.6)  # longer than the client waits in that test (0.3 s)
        wamid = f"wamid.out{next(self._ids)}"
        answer = {
            "messaging_product": "whatsapp",
            "contacts": [{"input": payload.get("to"), "wa_id": "x"}],
            "messages": [{"id": wamid}],
        }
        return Response(json.dumps(answer), content_type="application/json")

    def _templates(self, request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return _error(401, 190, "Invalid OAuth access token")
        self.template_pages_served += 1
        limit = int(request.args.get("limit", 25))
        start = int(request.args.get("after") or 0)
        page = {"data": self.templates[start : start + limit]}
        if start + limit < len(self.templates):
            after = str(start + limit)
            page["paging"] = {
                "cursors": {"before": str(start), "after": after},
                "next": f"https://graph.facebook.com/v25.0/x/message_templates?after={after}",
            }
        return Response(json.dumps(page), content_type="application/json")

    def _upload(self, request: Request) -> Response:
        upload = request.files["file"]
        self.uploads.append(
            {
                "number": request.path.split("/")[2],
                "bytes": upload.read(),
                "type": request.form.get("type"),
            }
        )
        return Response(
            json.dumps({"id": f"uploaded{len(self.uploads)}"}), content_type="application/json"
        )

    def _media_info(self, request: Request) -> Response:
        media_id = request.path.split("/")[-1]
        if media_id not in self.media:
            return Response(json.dumps({"error": {"code": 100, "message": "no media"}}), status=404)
        content = self.media[media_id]
        info = {
            "url": self.server.url_for(f"/v25.0/media-download/{media_id}"),
            "mime_type": "image/jpeg",
            "sha256": b64_sha256(content),
            "file_size": len(content),
            "id": media_id,
        }
        return Response(json.dumps(info), content_type="application/json")

    def _download(self, request: Request) -> Response:
        media_id = request.path.split("/")[-1]
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return Response("no token", status=401)
        if media_id in self.media_404_once:
            self.media_404_once.discard(media_id)
            return Response("expired", status=404)
        return Response(self.media[media_id], content_type="image/jpeg")
