"""Keeps outbound messages in the database instead of sending them: for local work and the
phone simulator."""

import base64
import hashlib
import logging
import uuid

from relay.providers.base import MediaFile, Provider
from relay.providers.console_templates import CATALOGUE

logger = logging.getLogger(__name__)

# A 1x1 transparent PNG stands in for media that the simulator never really uploaded.
PLACEHOLDER_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


class ConsoleProvider(Provider):
    def send(self, *, phone_number_id: str, payload: dict) -> str:
        from relay.models import ConsoleMessage

        wamid = f"wamid.console.{uuid.uuid4().hex}"
        ConsoleMessage.objects.create(
            phone_number_id=phone_number_id, payload=payload, provider_message_id=wamid
        )
        # Type only: the log must not carry numbers or message text.
        logger.info("console provider: %s message from %s", payload.get("type"), phone_number_id)
        return wamid

    def mark_read(self, *, phone_number_id: str, message_id: str) -> None:
        logger.info("console provider: read receipt on %s", phone_number_id)

    def download_media(self, *, media_id: str, phone_number_id: str) -> MediaFile:
        digest = base64.b64encode(hashlib.sha256(PLACEHOLDER_PNG).digest()).decode()
        return MediaFile(PLACEHOLDER_PNG, "image/png", digest)

    def upload_media(
        self, *, phone_number_id: str, content: bytes, mime_type: str, filename: str
    ) -> str:
        return f"console-media-{uuid.uuid4().hex[:12]}"

    def list_templates(self, *, account: str) -> list[dict]:
        return [dict(template) for template in CATALOGUE]
