from django.db import models


class NumberKind(models.TextChoices):
    RELAY = "relay", "Relay"
    INTAKE = "intake", "Intake"


class SessionMode(models.TextChoices):
    DIRECT = "direct", "Direct"
    MEDIATED = "mediated", "Mediated"


class Priority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


class CommandAction(models.TextChoices):
    """What a slash command does; admins bind names to these (relay/commands/actions.py)."""

    SET_STATUS = "set_status", "Set the booking status (to its value)"
    ADD_TAG = "add_tag", "Tag the session (its value, or the text written)"
    CLOSE = "close", "Close the session"
    REROUTE = "reroute", "Move the session to another partner (the code written)"
    FOLLOW_UP = "follow_up", "Remind the side that owes the next answer"
    QUOTE = "quote", "A partner's price and lead time, for an agent to add margin to"
    HANDOVER = "handover", "Ask both sides whether they agree to exchange numbers"
    NOTE = "note", "A private note for agents (the text written)"
    OFFER_SLOTS = "offer_slots", "Offer times to the customer, who picks one (the times written)"


class QuoteStatus(models.TextChoices):
    PENDING = "pending", "Waiting for an agent's margin"
    SENT = "sent", "Sent to the customer"
    SUPERSEDED = "superseded", "Replaced by a newer quote"


class HandoverStatus(models.TextChoices):
    ASKED = "asked", "Waiting for both answers"
    COMPLETED = "completed", "Both agreed: numbers exchanged"
    DECLINED = "declined", "One side said no"
    WITHDRAWN = "withdrawn", "One side took back their yes"
    EXPIRED = "expired", "Not answered in time"


class SlotStatus(models.TextChoices):
    OFFERED = "offered", "Offered"
    CONFIRMED = "confirmed", "Confirmed: the appointment"
    WITHDRAWN = "withdrawn", "No longer offered"
    RESCHEDULED = "rescheduled", "Was the appointment; moved"
    MISSED = "missed", "Was the appointment; nobody came"


class CommandUser(models.TextChoices):
    AGENT = "agent", "Agents (and API clients)"
    PARTNER = "partner", "Partner contacts"
    CUSTOMER = "customer", "Customers"


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
    OPENING = "opening", "Opening template"


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
    PENDING = "pending", "Waiting to be passed on"  # its copy is queued or held
    RELAYED = "relayed", "Relayed"  # its copy was sent
    AWAITING_AGENT = "awaiting_agent", "Awaiting an agent"
    AWAITING_CHOICE = "awaiting_choice", "Awaiting thread choice"
    OUT_OF_SESSION = "out_of_session", "Out of session"
    REJECTED = "rejected", "Not relayed"
    COMMAND = "command", "A command (never relayed)"
    ANSWERED = "answered", "Answered by an agent instead"
    DISCARDED = "discarded", "Discarded by an agent"
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
    """As WhatsApp reports them; only APPROVED templates can be sent."""

    APPROVED = "APPROVED", "Approved"
    PENDING = "PENDING", "Pending review"
    REJECTED = "REJECTED", "Rejected"
    PAUSED = "PAUSED", "Paused"
    DISABLED = "DISABLED", "Disabled"
    IN_APPEAL = "IN_APPEAL", "In appeal"
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED", "Limit exceeded"
    ARCHIVED = "ARCHIVED", "Archived"
    PENDING_DELETION = "PENDING_DELETION", "Being deleted"
    DELETED = "DELETED", "Deleted"


# A template in one of these can never be sent again: refused when configured.
DEAD_TEMPLATE_STATUSES = (
    TemplateStatus.REJECTED,
    TemplateStatus.DISABLED,
    TemplateStatus.ARCHIVED,
    TemplateStatus.PENDING_DELETION,
    TemplateStatus.DELETED,
)


class LeakKind(models.TextChoices):
    PHONE = "phone", "Phone number"
    EMAIL = "email", "E-mail address"
    URL = "url", "Link"


class ActorKind(models.TextChoices):
    """Who made a change on the timeline."""

    CUSTOMER = "customer", "Customer"
    PARTNER = "partner", "Partner contact"
    CONTACT = "contact", "Someone outside any session"
    AGENT = "agent", "Agent"
    API = "api", "API client"
    SYSTEM = "system", "Switchboard"


class EventKind(models.TextChoices):
    """Every kind of event on the session timeline (README, "The session timeline")."""

    # Sessions
    SESSION_OPENED = "session.opened", "Session opened"
    PARTICIPANT_BOUND = "session.participant_bound", "Participant given a proxy number"
    SESSION_CLOSED = "session.closed", "Session closed"
    SESSION_EXPIRED = "session.expired", "Session expired"
    SESSION_REOPENED = "session.reopened", "Session reopened"
    OPENING_QUEUED = "opening.queued", "Opening template queued"
    OPENING_UNSENT = "opening.unsent", "No opening template could go"
    # Routing and the booking
    SESSION_ROUTED = "session.routed", "Routed by rules"
    SESSION_TRIAGED = "session.triaged", "No rule placed it: waits in triage"
    SESSION_ASSIGNED = "session.assigned", "Assigned to an agent"
    BOOKING_STATUS_CHANGED = "booking.status_changed", "Booking status changed"
    COMMAND_RUN = "command.run", "Command run"
    SESSION_TAGGED = "session.tagged", "Tag added"
    SESSION_FOLLOWED_UP = "session.followed_up", "The side that owes an answer was reminded"
    NOTE_ADDED = "note.added", "Private note added"
    # Quotes
    QUOTE_RECEIVED = "quote.received", "A partner quoted: waits for an agent's margin"
    QUOTE_SENT = "quote.sent", "Quote sent to the customer, with margin"
    QUOTE_SUPERSEDED = "quote.superseded", "Quote replaced by a newer one"
    # Consented handover of numbers
    HANDOVER_REQUESTED = "handover.requested", "Both sides asked to exchange numbers"
    HANDOVER_ACCEPTED = "handover.accepted", "One side agreed to exchange numbers"
    HANDOVER_DECLINED = "handover.declined", "One side refused to exchange numbers"
    HANDOVER_WITHDRAWN = "handover.withdrawn", "One side took back their yes"
    HANDOVER_EXPIRED = "handover.expired", "No answer in time: numbers not exchanged"
    HANDOVER_COMPLETED = "handover.completed", "Both agreed: numbers exchanged"
    # Scheduling
    SLOTS_OFFERED = "slot.offered", "Times offered to the customer"
    SLOT_CONFIRMED = "slot.confirmed", "The customer picked a time: the appointment"
    SLOT_REFUSED = "slot.refused", "A pick that could not be taken"
    SLOT_RESCHEDULED = "slot.rescheduled", "The appointment is to be moved"
    REMINDER_SENT = "reminder.sent", "Reminder of the appointment sent"
    BOOKING_NO_SHOW = "booking.no_show", "Nobody came to the appointment"
    # SLA clocks (sla/clocks.py says what starts and stops each)
    SLA_STARTED = "sla.started", "An SLA clock started"
    SLA_MET = "sla.met", "An SLA clock stopped in time"
    SLA_PAUSED = "sla.paused", "An SLA clock paused: the booking waits on the customer"
    SLA_RESUMED = "sla.resumed", "An SLA clock runs again: the customer wrote"
    SLA_WARNING = "sla.warning", "An SLA clock is close to its target"
    SLA_BREACHED = "sla.breached", "An SLA clock ran past its target"
    SLA_ESCALATED = "sla.escalated", "A breach still open was escalated"
    SLA_REMATCHED = "sla.rematched", "Another partner or team: clocks moved to its policy"
    # Inbound messages
    MESSAGE_RECEIVED = "message.received", "Message received"
    SYSTEM_NOTICE = "message.system_notice", "WhatsApp notice received"
    MESSAGE_REJECTED = "message.rejected", "Message not passed on"
    MESSAGE_OUT_OF_SESSION = "message.out_of_session", "Message outside any session"
    MESSAGE_AWAITING_CHOICE = "message.awaiting_choice", "Sender asked which booking"
    THREAD_CHOSEN = "message.thread_chosen", "Sender chose a booking"
    MESSAGE_HELD_FOR_AGENT = "message.held_for_agent", "Message waits for an agent"
    MESSAGE_REDACTED = "message.redacted", "Contact details hidden"
    MESSAGE_RELAYED = "message.relayed", "Message passed on"
    MESSAGE_FORWARDED = "message.forwarded", "Held message passed on by an agent"
    MESSAGE_ANSWERED = "message.answered", "Held message answered by an agent instead"
    MESSAGE_DISCARDED = "message.discarded", "Held message discarded by an agent"
    # Outbound messages
    MESSAGE_QUEUED = "message.queued", "Message queued"
    MESSAGE_HELD = "message.held", "Message held: 24-hour window closed"
    MESSAGE_RELEASED = "message.released", "Held message released"
    WINDOW_TEMPLATE_QUEUED = "window.template_queued", "Template queued to reopen a window"
    MESSAGE_SENT = "message.sent", "Message sent"
    MESSAGE_DELIVERED = "message.delivered", "Message delivered"
    MESSAGE_READ = "message.read", "Message read"
    MESSAGE_FAILED = "message.failed", "Message failed"
    MESSAGE_SEND_ERROR = "message.send_error", "Sending attempt failed"
    MESSAGE_RECONCILED = "message.reconciled", "Interrupted send confirmed"
    MESSAGE_STATUS_OTHER = "message.status_other", "Other delivery status"
    READ_RECEIPT_FAILED = "message.read_receipt_failed", "Read receipt not mirrored"
    # The whole relay
    SENDING_HALTED = "outbound.halted", "All sending paused"
    SENDING_RESUMED = "outbound.resumed", "Sending resumed"
    WEBHOOK_MALFORMED_ITEM = "webhook.malformed_item", "Webhook item without id or sender"
    WEBHOOK_UNKNOWN_NUMBER = "webhook.unknown_number", "Webhook for a number we do not have"
    WEBHOOK_UNKNOWN_STATUS = "webhook.unknown_status", "Status for a message we do not know"
    WEBHOOK_ERROR = "webhook.error", "WhatsApp reported an error"
    WEBHOOK_MANAGEMENT = "webhook.management", "Template, number or account event"


class RejectReason(models.TextChoices):
    """Why an inbound message was not passed on (detail of message.rejected)."""

    STALE = "stale", "Arrived too late"
    UNSUPPORTED = "unsupported", "Kind of message that cannot be passed on"
    SESSION_ENDED = "session_ended", "Its session ended first"
    THREAD_ENDED = "thread_ended", "The booking chosen has ended"
    REACTION_TARGET_UNKNOWN = "reaction_target_unknown", "Reaction to an unknown message"


class TextKey(models.TextChoices):
    """Every text Switchboard itself sends to a person (relay/texts.py holds the wording)."""

    COMMAND_UNKNOWN = "command_unknown", "A command that does not exist"
    COMMAND_NOT_ALLOWED = "command_not_allowed", "A command the sender may not use here"
    COMMAND_WRONG = "command_wrong", "A command written wrongly"
    COMMAND_DONE = "command_done", "A command that ran"
    BOOKING_NOW = "booking_now", "A booking's new status, told to the customer"
    FOLLOW_UP = "follow_up", "A reminder to the side that owes an answer"
    QUOTE_OFFER = "quote_offer", "A price, told to the customer"
    QUOTE_OFFER_NOW = "quote_offer_now", "A price without a lead time, told to the customer"
    ONE_WEEK = "one_week", "A lead time of one week"
    WEEKS = "weeks", "A lead time in weeks"
    ONE_DAY = "one_day", "A lead time of one day"
    DAYS = "days", "A lead time in days"
    ONE_HOUR = "one_hour", "A lead time of one hour"
    HOURS = "hours", "A lead time in hours"
    HANDOVER_ASK = "handover_ask", "Do you agree to exchange numbers? (buttons text)"
    HANDOVER_YES = "handover_yes", "Yes, exchange numbers (button, at most 20 characters)"
    HANDOVER_NO = "handover_no", "No, keep my number private (button, at most 20 characters)"
    HANDOVER_WAIT = "handover_wait", "Thank you; waiting for the other side"
    HANDOVER_KEPT = "handover_kept", "Your number stays private"
    HANDOVER_DONE = "handover_done", "Both agreed: the other side's number follows"
    HANDOVER_OFF = "handover_off", "The numbers were not exchanged"
    SLOTS_OFFER = "slots_offer", "Please choose a time (list text)"
    SLOTS_BUTTON = "slots_button", "Choose a time (list button, at most 20 characters)"
    SLOTS_SECTION = "slots_section", "Times (list heading, at most 24 characters)"
    SLOT_CONFIRMED = "slot_confirmed", "The time is set, told to both sides"
    SLOT_TAKEN = "slot_taken", "That time is no longer free"
    SLOT_PAST = "slot_past", "That time has passed"
    SLOT_REMINDER = "slot_reminder", "A reminder before the appointment"
    BOOKING_TIME = "booking_time", "The booking system moved the appointment, told to both sides"

    STRANGER = "stranger", "Reply to someone with no booking on this number"
    UNSUPPORTED = "unsupported", "A kind of message that cannot be passed on"
    STALE = "stale", "A message that arrived too late"
    ENDED = "ended", "A message for a booking that has ended"
    UNDELIVERED = "undelivered", "A message that could not be delivered"
    PARTLY_UNREADABLE = "partly_unreadable", "A message passed on without characters it held"
    FILE_TYPE_REFUSED = "file_type_refused", "A file of a type WhatsApp does not take"
    FILE_TOO_LARGE = "file_too_large", "A file larger than WhatsApp takes"
    WHICH_BOOKING = "which_booking", "Which booking? (list text)"
    WHICH_BOOKING_FOOTER = "which_booking_footer", "Which booking? (list footer)"
    WHICH_BOOKING_BUTTON = "which_booking_button", "Which booking? (list button)"
    WHICH_BOOKING_SECTION = "which_booking_section", "Which booking? (list heading)"
    WHICH_BOOKING_ROW = "which_booking_row", "Which booking? (a row: who it is with)"
    CONTACT_CARD = "contact_card", "A contact card, with its details hidden"
    UNNAMED_CONTACT = "unnamed_contact", "A contact card without a name"
    NUMBER_HIDDEN = "number_hidden", "In place of a phone number"
    EMAIL_HIDDEN = "email_hidden", "In place of an e-mail address"
    LINK_HIDDEN = "link_hidden", "In place of a link"
    CUSTOMER = "customer", "What a customer without a name is called"
    PARTNER = "partner", "What a partner without a name is called"
