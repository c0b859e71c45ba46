"""The provider interface: how the relay sends and fetches, whatever carries the messages."""

import enum
from dataclasses import dataclass

from relay.media import MediaProblem


class Failure(enum.Enum):
    TRANSIENT = "transient"  # try again later with backoff
    NUMBER_RATE = "number_rate"  # 130429: this sending number is over its throughput
    PAIR_RATE = "pair_rate"  # 131056: too many messages to this recipient from this number
    WINDOW_CLOSED = "window_closed"  # 131047: only a template may go now
    PERMANENT = "permanent"  # resending cannot help
    HALT = "halt"  # token or account problem: stop all sending until an operator acts
    UNCERTAIN = "uncertain"  # timed out after sending: WhatsApp may have accepted it


class ProviderError(Exception):
    def __init__(
        self,
        message: str,
        *,
        failure: Failure,
        code: int | None = None,
        tell_sender: "MediaProblem | None" = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.failure = failure
        self.code = code
        self.tell_sender = tell_sender  # what the sender should be told, if it fails for good


@dataclass(frozen=True)
class MediaFile:
    content: bytes
    mime_type: str
    sha256: str  # base64 of the digest, as WhatsApp gives it


class Provider:
    """Sends Cloud API payloads from one of our numbers and moves media between numbers."""

    # Whether several threads may send at once (each with a provider of its own).
    sends_in_parallel = False

    def send(self, *, phone_number_id: str, payload: dict) -> str:
        """Send `payload` (a Cloud API message body); return the WhatsApp message id."""
        raise NotImplementedError

    def mark_read(self, *, phone_number_id: str, message_id: str) -> None:
        """Show the sender of `message_id` (received on this number) that it was read."""
        raise NotImplementedError

    def download_media(self, *, media_id: str, phone_number_id: str) -> MediaFile:
        raise NotImplementedError

    def upload_media(
        self, *, phone_number_id: str, content: bytes, mime_type: str, filename: str
    ) -> str:
        """Upload media to the sending number; return its media id."""
        raise NotImplementedError

    def list_templates(self, *, account: str) -> list[dict]:
        """Every message template of a WhatsApp Business Account, as the Cloud API describes
        them (`name`, `language`, `status`, `category`, `components`, `parameter_format`)."""
        raise NotImplementedError
