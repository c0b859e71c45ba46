from django.db import models


class NumberKind(models.TextChoices):
    RELAY = "relay", "Relay"
    INTAKE = "intake", "Intake"


class SessionMode(models.TextChoices):
    DIRECT = "direct", "Direct"
    MEDIATED = "mediated", "Mediated"


class SessionStatus(models.TextChoices):
    OPEN = "open", "Open"  # created, nobody has written yet
    ACTIVE = "active", "Active"  # at least one message went through
    CLOSED = "closed", "Closed"
    EXPIRED = "expired", "Expired"


LIVE_SESSION_STATUSES = (SessionStatus.OPEN, SessionStatus.ACTIVE)


class Role(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    PARTNER = "partner", "Partner"


class Direction(models.TextChoices):
    INBOUND = "in", "Inbound"
    OUTBOUND = "out", "Outbound"


class Origin(models.TextChoices):
    PARTICIPANT = "participant", "Participant"  # inbound from WhatsApp
    RELAYED = "relayed", "Relayed"  # outbound copy of a participant's message
    API = "api", "API"
    NOTICE = "notice", "Relay notice"
    TEMPLATE = "template", "Window template"


class MessageType(models.TextChoices):
    TEXT = "text", "Text"
    IMAGE = "image", "Image"
    DOCUMENT = "document", "Document"
    AUDIO = "audio", "Audio"
    VIDEO = "video", "Video"
    STICKER = "sticker", "Sticker"
    LOCATION = "location", "Location"
    CONTACTS = "contacts", "Contacts"
    INTERACTIVE = "interactive", "Interactive"
    BUTTON = "button", "Button"
    REACTION = "reaction", "Reaction"
    TEMPLATE = "template", "Template"
    SYSTEM = "system", "WhatsApp notice"
    UNSUPPORTED = "unsupported", "Unsupported"


MEDIA_TYPES = {"image", "document", "audio", "video", "sticker"}
CAPTIONED_TYPES = {"image", "document", "video"}


class MessageStatus(models.TextChoices):
    # inbound
    RECEIVED = "received", "Received"
    RELAYED = "relayed", "Relayed"
    AWAITING_AGENT = "awaiting_agent", "Awaiting an agent"
    AWAITING_CHOICE = "awaiting_choice", "Awaiting thread choice"
    OUT_OF_SESSION = "out_of_session", "Out of session"
    REJECTED = "rejected", "Not relayed"
    # outbound
    QUEUED = "queued", "Queued"
    HELD = "held", "Held until the recipient writes"
    SENDING = "sending", "Sending"
    UNCERTAIN = "uncertain", "Sent, awaiting confirmation"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    READ = "read", "Read"
    FAILED = "failed", "Failed"


# Outbound progress only moves forward; a later webhook for an earlier stage is ignored.
STATUS_RANK = {
    MessageStatus.QUEUED: 0,
    MessageStatus.HELD: 0,
    MessageStatus.SENDING: 1,
    MessageStatus.UNCERTAIN: 2,
    MessageStatus.SENT: 3,
    MessageStatus.DELIVERED: 4,
    MessageStatus.READ: 5,
}


class TemplateStatus(models.TextChoices):
    APPROVED = "APPROVED", "Approved"
    PENDING = "PENDING", "Pending review"
    REJECTED = "REJECTED", "Rejected"
    PAUSED = "PAUSED", "Paused"
    DISABLED = "DISABLED", "Disabled"


class LeakKind(models.TextChoices):
    PHONE = "phone", "Phone number"
    EMAIL = "email", "E-mail address"
    URL = "url", "Link"
