"""The shared agent inbox: the list of sessions and one thread, and the actions an agent takes
there. Every action calls the service the API and WhatsApp commands call, as the agent; a
refusal is shown beside the control that caused it (422) and changes nothing."""

from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from config.http import HtmxHttpRequest
from relay.choices import CommandUser, Role
from relay.commands.service import command_run
from relay.exceptions import RelayError
from relay.inbox import forms
from relay.inbox.access import inbox_view
from relay.inbox.listing import InboxFilters, inbox_page
from relay.inbox.media import media_response
from relay.inbox.suggestions import command_suggestions
from relay.inbox.thread import (
    identity,
    replied_since,
    thread_of,
    thread_seen,
    thread_version,
    viewers_besides,
    waiting_key,
)
from relay.masking import sees_real_numbers
from relay.models import RelaySession
from relay.privacy import redact
from relay.services.mediation import held_discard, held_forward
from relay.services.notes import note_add
from relay.services.queueing import session_message_send
from relay.services.quotes import lead_time_words, quote_send
from relay.timeline import Actor
from routing.services.assignment import session_assign
from routing.services.bookings import booking_status_set

LIST_PARAMS = ("q", "who", "state", "attention", "team", "partner", "workflow", "booking_status",
               "tag", "sort", "page")  # fmt: skip


@inbox_view
@require_GET
def inbox_list(request: HtmxHttpRequest) -> HttpResponse:
    context = _list_context(request) | {"current": request.GET.get("current", "")}
    if request.htmx and request.htmx.target == "session-list":
        return render(request, "relay/inbox/_list.html", context)
    return render(request, "relay/inbox/page.html", context)


@inbox_view
@require_GET
def thread_page(request: HtmxHttpRequest, session: RelaySession) -> HttpResponse:
    thread = _thread_context(request, session)  # first: it marks the thread read
    return render(request, "relay/inbox/page.html", _list_context(request) | thread)


@inbox_view
@require_GET
def thread_live(request: HtmxHttpRequest, session: RelaySession) -> HttpResponse:
    """Polled every few seconds: who else is here always; the transcript and the facts only
    when the timeline moved on, and what waits for the agent only when that changed."""
    latest, waiting = thread_version(session)
    if str(latest) == request.GET.get("after") and waiting == request.GET.get("held", ""):
        # Nothing moved: the agent is still here, and sees who else is.
        thread_seen(session, request.user, read_up_to=0)  # what was read stays read
        context = {"viewers": viewers_besides(session, request.user)}
        return _oob(request, context, ["relay/inbox/_presence.html"])
    context = _thread_context(request, session)
    parts = ["relay/inbox/_presence.html", "relay/inbox/_live.html"]
    if str(context["thread"].last_event_id) != request.GET.get("after"):
        parts += [
            "relay/inbox/_transcript.html",
            "relay/inbox/_facts.html",
            "relay/inbox/_seen.html",
        ]
    if context["waiting_key"] != request.GET.get("held", ""):
        parts.append("relay/inbox/_waiting.html")
    return _oob(request, context, parts)


@inbox_view
@require_GET
def command_options(request: HtmxHttpRequest, session: RelaySession) -> HttpResponse:
    suggestions = command_suggestions(session, request.GET.get("text", ""))
    return render(request, "relay/inbox/_suggestions.html", {"suggestions": suggestions})


@inbox_view
@require_GET
def media(request: HttpRequest, session: RelaySession, message_id: int) -> HttpResponse:
    return media_response(session, message_id)


@inbox_view
@require_POST
def reply(request: HtmxHttpRequest, session: RelaySession) -> HttpResponse:
    form = forms.ReplyForm(request.POST)
    if not form.is_valid():
        return _refused(request, session, "reply", forms.first_error(form), form.data)
    data = form.cleaned_data
    others = replied_since(session, request.user, data.get("seen") or 0)
    if others and not data.get("anyway"):
        warning = "; ".join(_replied(event) for event in others)
        context = {"reply_warning": warning}
        return _refused(request, session, "reply", "", form.data, status=409, extra=context)
    return _acted(
        request,
        session,
        "reply",
        lambda actor: session_message_send(
            session=session, to_role=data["to"], text=data["text"], actor=actor
        ),
        form.data,
    )


@inbox_view
@require_POST
def note(request: HtmxHttpRequest, session: RelaySession) -> HttpResponse:
    def act(data, actor):
        return note_add(session=session, text=data["text"], actor=actor)

    return _submitted(request, session, "note", forms.NoteForm, act)


@inbox_view
@require_POST
def command(request: HtmxHttpRequest, session: RelaySession) -> HttpResponse:
    form = forms.CommandForm(request.POST)
    if not form.is_valid():
        return _refused(request, session, "command", forms.first_error(form), form.data)
    outcome = command_run(
        session=session,
        text=form.cleaned_data["text"],
        user=CommandUser.AGENT,
        actor=Actor.of_user(request.user),
    )
    if not outcome.ok:
        return _refused(request, session, "command", outcome.reply, form.data)
    session.refresh_from_db()
    return _done(request, session, "command", {"command_done": outcome.reply})


@inbox_view
@require_POST
def booking_status(request: HtmxHttpRequest, session: RelaySession) -> HttpResponse:
    def act(data, actor):
        return booking_status_set(session=session, to=data["status"], actor=actor)

    return _submitted(request, session, "status", forms.StatusForm, act)


@inbox_view
@require_POST
def assign(request: HtmxHttpRequest, session: RelaySession) -> HttpResponse:
    def act(data, actor):
        user = _assignable(session, data["user"])
        if user is None:
            raise RelayError("Assign to: only an agent of the session's team can take it.")
        return session_assign(session=session, user=user, actor=actor)

    return _submitted(request, session, "assign", forms.AssignForm, act)


@inbox_view
@require_POST
def held(
    request: HtmxHttpRequest, session: RelaySession, message_id: int, what: str
) -> HttpResponse:
    if what not in ("forward", "discard"):
        raise Http404("Held messages are forwarded or discarded.")

    def act(data, actor):
        if what == "discard":
            return held_discard(
                session=session, message_id=message_id, actor=actor, reason=data["reason"]
            )
        # Edited when the text differs from what the agent was shown (which may have had
        # contact details hidden); a message without text goes as it is.
        text = data["text"].strip()
        edited = text if text and text != data["shown"].strip() else None
        return held_forward(session=session, message_id=message_id, actor=actor, text=edited)

    return _submitted(request, session, f"held-{message_id}", forms.HeldForm, act)


@inbox_view
@require_POST
def quote(request: HtmxHttpRequest, session: RelaySession, quote_id: int) -> HttpResponse:
    def act(data, actor):
        return quote_send(
            session=session,
            quote_id=quote_id,
            actor=actor,
            margin_percent=data["margin_percent"],
            margin_amount=data["margin_amount"],
            terms=data["terms"],
        )

    return _submitted(request, session, f"quote-{quote_id}", forms.QuoteForm, act)


def _submitted(request, session, place: str, form_class, act) -> HttpResponse:
    """Check the form, then `act(cleaned data, actor)`; a problem with either is refused."""
    form = form_class(request.POST)
    if not form.is_valid():
        return _refused(request, session, place, forms.first_error(form), form.data)
    return _acted(request, session, place, lambda actor: act(form.cleaned_data, actor), form.data)


def _acted(request, session, place: str, act, data) -> HttpResponse:
    try:
        act(Actor.of_user(request.user))
    except RelayError as exc:
        return _refused(request, session, place, _sentence(exc.message), data)
    session.refresh_from_db()
    return _done(request, session, place, {})


def _done(request: HtmxHttpRequest, session: RelaySession, place: str, extra: dict):
    if not request.htmx:
        return redirect(reverse("inbox:thread", args=[session.pk]))
    context = _thread_context(request, session) | extra
    response = _oob(request, context, [*_REFRESHED, *_FORMS.get(place, [])])
    response["HX-Trigger"] = "thread-changed"  # the list refreshes its row
    return response


def _refused(request, session, place: str, problem: str, data, status=422, extra=None):
    """Show `problem` beside the control at `place`, what was typed kept."""
    context = _thread_context(request, session, {place: problem}, {place: data})
    context |= extra or {}
    if not request.htmx:
        context |= _list_context(request)
        return render(request, "relay/inbox/page.html", context, status=status)
    parts = _FORMS.get(place) or ["relay/inbox/_waiting.html"]
    return _oob(request, context, parts, status=status)


# What every action refreshes, and the form each action re-renders (fresh, or with its error).
_REFRESHED = [
    "relay/inbox/_transcript.html",
    "relay/inbox/_seen.html",
    "relay/inbox/_facts.html",
    "relay/inbox/_waiting.html",
    "relay/inbox/_live.html",
]
_FORMS = {
    "reply": ["relay/inbox/_reply.html"],
    "command": ["relay/inbox/_command.html"],
    "note": ["relay/inbox/_note.html"],
    "status": ["relay/inbox/_facts.html"],
    "assign": ["relay/inbox/_facts.html"],
}


def _oob(request, context: dict, templates: list[str], status: int = 200) -> HttpResponse:
    """Each part swaps itself into the page by its id (hx-swap-oob), so that one answer can
    refresh several places."""
    context = context | {"oob": True}
    seen, html = set(), []
    for template in templates:
        if template not in seen:
            seen.add(template)
            html.append(render_to_string(template, context, request=request))
    return HttpResponse("".join(html), status=status)


def _thread_context(
    request: HttpRequest,
    session: RelaySession,
    errors: dict | None = None,
    typed: dict | None = None,
) -> dict:
    """What the thread's parts show; `errors` and `typed` by the place of the control that
    was refused ("reply", "held-12", "quote-3"...)."""
    errors, typed = errors or {}, typed or {}
    shown = sees_real_numbers(request)
    thread = thread_of(session, numbers_shown=shown)
    thread_seen(session, request.user, read_up_to=thread.last_message_id)
    held = [e for e in thread.entries if e.held]
    places = {f"held-{e.id}" for e in held} | {f"quote-{q.pk}" for q in thread.quotes}
    # A refusal about a message or quote no longer waiting (another agent took it) is shown
    # at the top of what waits.
    gone = [
        p for key, p in errors.items() if key.startswith(("held-", "quote-")) and key not in places
    ]
    return {
        "session": session,
        "thread": thread,
        "numbers": {role: identity(p, shown) for role, p in thread.sides.items()},
        "viewers": viewers_besides(session, request.user),
        "waiting_key": waiting_key(sorted(e.id for e in held), [q.pk for q in thread.quotes]),
        "held_forms": [{"entry": e, "error": errors.get(f"held-{e.id}")} for e in held],
        "quote_forms": [
            {
                "quote": q,
                "ready": lead_time_words(q.lead_time),
                "error": errors.get(f"quote-{q.pk}"),
            }
            for q in thread.quotes
        ],
        "errors": errors,
        "gone_errors": gone,
        "typed": typed,
        "list_query": _list_query(request),
    }


def _list_context(request: HttpRequest) -> dict:
    agent = request.agent  # read by inbox_view
    filters = InboxFilters(request.GET or None, user=request.user, agent=agent)
    listing = inbox_page(request.user, agent, filters.chosen() if request.GET else {})
    shown = sees_real_numbers(request)
    rows = [_row(session, shown) for session in listing.page.object_list]
    return {
        "filters": filters,
        "listing": listing,
        "rows": rows,
        "list_query": _list_query(request),
        "page_query": _list_query(request, without="page"),
    }


def _row(session: RelaySession, numbers_shown: bool) -> dict:
    sides = {p.role: p for p in session.participants.all()}
    preview = session.last_body or ""
    if not (numbers_shown or session.handed_over):
        preview = redact(preview).text
    return {
        "session": session,
        "customer": sides.get(Role.CUSTOMER),
        "partner_side": sides.get(Role.PARTNER),
        "preview": preview[:120],
    }


def _list_query(request: HttpRequest, without: str = "") -> str:
    kept = {k: v for k, v in request.GET.items() if k in LIST_PARAMS and k != without and v}
    return urlencode(kept)


def _assignable(session: RelaySession, user_id: int):
    from routing.models import Agent

    agents = Agent.objects.filter(user_id=user_id).select_related("user")
    if session.team_id:
        agents = agents.filter(teams=session.team_id)
    agent = agents.first()
    return agent.user if agent else None


def _replied(event) -> str:
    who = event.actor_user.get_username() if event.actor_user else "the booking system"
    role = event.message.participant.role if event.message and event.message.participant else ""
    return f"{who} wrote to the {role or 'other side'} at {event.created_at:%H:%M}"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text
