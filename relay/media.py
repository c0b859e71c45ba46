"""What WhatsApp accepts to send, by media type: checked before anything is uploaded."""

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


def media_problem(kind: str, *, mime_type: str, size: int, animated: bool = False) -> str | None:
    """Why WhatsApp would refuse to send this file, in words for the sender; None if fine."""
    base_type = mime_type.split(";")[0].strip().lower()
    if base_type not in ACCEPTED[kind]:
        return f"a {kind} of type {base_type or 'unknown'} can't be sent on WhatsApp"
    limit = STICKER_LIMITS[animated] if kind == "sticker" else LIMITS[kind]
    if size > limit:
        return f"the {kind} is {size // KB} KB; WhatsApp takes at most {limit // KB} KB"
    return None
