"""Meta's WhatsApp Cloud API."""

import base64
import hashlib
import os
import threading

import requests
from django.conf import settings
from urllib3.exceptions import NewConnectionError

from relay.providers.base import Failure, MediaFile, Provider, ProviderError

TEMPLATE_FIELDS = "id,name,language,status,category,components,parameter_format"
TEMPLATES_PER_PAGE = 100
# Error codes by what the relay should do about them; anything else is permanent.
TRANSIENT_CODES = {1, 2, 4, 80007, 131000, 131016, 131057}
HALT_CODES = {0, 190, 368, 131031, 131048}
CODE_FAILURES = {
    130429: Failure.NUMBER_RATE,
    131056: Failure.PAIR_RATE,
    131047: Failure.WINDOW_CLOSED,
}


def classify(code: int | None, http_status: int) -> Failure:
    if code in CODE_FAILURES:
        return CODE_FAILURES[code]
    if code in TRANSIENT_CODES:
        return Failure.TRANSIENT
    if code in HALT_CODES:
        return Failure.HALT
    if code is None and (http_status >= 500 or http_status == 429):
        return Failure.TRANSIENT
    return Failure.PERMANENT


_sessions = threading.local()


def http_session() -> requests.Session:
    """This thread's HTTP session for the token in use: its connections to Graph stay open
    from one send to the next."""
    token = settings.WHATSAPP_ACCESS_TOKEN
    if getattr(_sessions, "token", None) != token:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        session.headers["User-Agent"] = "Switchboard/1.0"
        # The proxy and CA settings of the environment are read once here, not on every send.
        session.proxies = requests.utils.get_environ_proxies(settings.WHATSAPP_API_BASE)
        # As requests reads them: an empty value means "not set", never "do not verify".
        session.verify = (
            os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        )
        session.trust_env = False
        _sessions.session, _sessions.token = session, token
    return _sessions.session


class WhatsAppProvider(Provider):
    sends_in_parallel = True

    def __init__(self) -> None:
        self.base = settings.WHATSAPP_API_BASE.rstrip("/")
        self.timeout = settings.WHATSAPP_TIMEOUT_SECONDS
        self.http = http_session()

    def send(self, *, phone_number_id: str, payload: dict) -> str:
        data = self._call(
            "post", f"{self.base}/{phone_number_id}/messages", json=payload, ambiguous=True
        )
        try:
            return data["messages"][0]["id"]
        except (KeyError, IndexError, TypeError) as exc:
            # Accepted (2xx) but unreadable: WhatsApp may well deliver it, so do not resend.
            raise ProviderError("unexpected send response", failure=Failure.UNCERTAIN) from exc

    def mark_read(self, *, phone_number_id: str, message_id: str) -> None:
        payload = {"messaging_product": "whatsapp", "status": "read", "message_id": message_id}
        self._call("post", f"{self.base}/{phone_number_id}/messages", json=payload)

    def download_media(self, *, media_id: str, phone_number_id: str) -> MediaFile:
        for attempt in range(2):
            info = self._call(
                "get", f"{self.base}/{media_id}", params={"phone_number_id": phone_number_id}
            )
            response = self._request("get", info["url"])
            # Download URLs live five minutes: on 404 ask for a fresh one, once.
            if response.status_code == 404 and attempt == 0:
                continue
            if response.status_code >= 400:
                raise ProviderError(
                    f"media download failed with HTTP {response.status_code}",
                    failure=classify(None, response.status_code),
                )
            digest = base64.b64encode(hashlib.sha256(response.content).digest()).decode()
            if info.get("sha256") and info["sha256"] != digest:
                raise ProviderError(
                    "downloaded media does not match its checksum", failure=Failure.PERMANENT
                )
            return MediaFile(response.content, info.get("mime_type", ""), digest)
        raise ProviderError("media download failed", failure=Failure.TRANSIENT)  # pragma: no cover

    def upload_media(
        self, *, phone_number_id: str, content: bytes, mime_type: str, filename: str
    ) -> str:
        data = self._call(
            "post",
            f"{self.base}/{phone_number_id}/media",
            data={"messaging_product": "whatsapp", "type": mime_type},
            files={"file": (filename or "file", content, mime_type)},
        )
        return data["id"]

    def list_templates(self, *, account: str) -> list[dict]:
        if not account:
            raise ProviderError(
                "set WHATSAPP_BUSINESS_ACCOUNT_ID (or a pool's account) to sync templates",
                failure=Failure.PERMANENT,
            )
        templates: list[dict] = []
        params = {"fields": TEMPLATE_FIELDS, "limit": TEMPLATES_PER_PAGE}
        while True:
            page = self._call("get", f"{self.base}/{account}/message_templates", params=params)
            templates += page.get("data") or []
            paging = page.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            # Follow the cursor on our own base URL rather than the `next` link it came with.
            if not paging.get("next") or not after:
                return templates
            params = {**params, "after": after}

    def _call(self, method: str, url: str, *, ambiguous: bool = False, **kwargs) -> dict:
        response = self._request(method, url, ambiguous=ambiguous, **kwargs)
        try:
            data = response.json()
        except ValueError:
            data = {}
        if response.status_code >= 400 or "error" in data:
            error = data.get("error") or {}
            code = error.get("code")
            details = (error.get("error_data") or {}).get("details") or error.get("message") or ""
            raise ProviderError(
                f"HTTP {response.status_code}: ({code}) {details}".strip(),
                failure=classify(code, response.status_code),
                code=code,
            )
        return data

    def _request(
        self, method: str, url: str, *, ambiguous: bool = False, **kwargs
    ) -> requests.Response:
        """`ambiguous`: a request that must not be repeated if it may have gone through."""
        try:
            return self.http.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            if ambiguous and not _never_sent(exc):
                # WhatsApp may have accepted it: reconcile through status webhooks instead.
                raise ProviderError(
                    "no answer from WhatsApp after sending", failure=Failure.UNCERTAIN
                ) from exc
            raise ProviderError("could not reach WhatsApp", failure=Failure.TRANSIENT) from exc


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the connection failed before any byte of the request left."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(exc, requests.ConnectionError) and isinstance(reason, NewConnectionError)
