"""Private notes on a session: agents read them; no participant ever receives them."""

from django.db import transaction

from relay.choices import EventKind
from relay.exceptions import RelayError
from relay.models import Note, RelaySession
from relay.timeline import Actor, timeline_record

NOTE_LIMIT = 4000


@transaction.atomic
def note_add(*, session: RelaySession, text: str, actor: Actor) -> Note:
    text = text.strip()
    if not text:
        raise RelayError("write the note first", field="text")
    if len(text) > NOTE_LIMIT:
        raise RelayError(f"a note holds at most {NOTE_LIMIT} characters", field="text")
    note = Note.objects.create(session=session, body=text, author_id=actor.user_id)
    timeline_record(EventKind.NOTE_ADDED, session=session, actor=actor, note=note.pk)
    return note
