"""What WhatsApp accepts to send, by media type: checked before anything is uploaded."""

from dataclasses import dataclass, field

from relay.choices import TextKey

KB = 1024
MB = 1024 * KB

LIMITS = {"image": 5 * MB, "audio": 16 * MB, "video": 16 * MB, "document": 100 * MB}
STICKER_LIMITS = {False: 100 * KB, True: 500 * KB}  # static, animated
ACCEPTED = {
    "image": {"image/jpeg", "image/png"},
    "audio": {"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"},
    "video": {"video/mp4", "video/3gpp"},
    "sticker": {"image/webp"},
    "document": {
        "text/plain",
        "application/pdf",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    },
}


@dataclass(frozen=True)
class MediaProblem:
    reason: str  # for operators
    notice: TextKey  # what the sender is told, in their language
    values: dict = field(default_factory=dict)


def media_problem(
    kind: str, *, mime_type: str, size: int, animated: bool = False
) -> MediaProblem | None:
    """Why WhatsApp would refuse to send this file; None if fine."""
    base_type = mime_type.split(";")[0].strip().lower() or "unknown"
    if base_type not in ACCEPTED[kind]:
        return MediaProblem(
            f"a {kind} of type {base_type} can't be sent on WhatsApp",
            TextKey.FILE_TYPE_REFUSED,
            {"type": base_type},
        )
    limit = STICKER_LIMITS[animated] if kind == "sticker" else LIMITS[kind]
    if size > limit:
        return MediaProblem(
            f"the {kind} is {size // KB} KB; WhatsApp takes at most {limit // KB} KB",
            TextKey.FILE_TOO_LARGE,
            {"size": _readable(size), "limit": _readable(limit)},
        )
    return None


def _readable(size: int) -> str:
    return f"{size / MB:.1f} MB" if size >= MB else f"{size // KB} KB"
