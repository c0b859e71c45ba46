"""The agent's side of a session through the API: messages held for them, quotes waiting
for a margin, private notes. The same services will serve the inbox."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from relay.api.schema import errors
from relay.api.serializers import (
    HeldActionSerializer,
    MessageSerializer,
    NoteSerializer,
    QuoteSendSerializer,
    QuoteSerializer,
    SlotSerializer,
    SlotsOfferSerializer,
    validated,
)
from relay.choices import MessageStatus
from relay.exceptions import RelayError
from relay.services.mediation import held_answer, held_discard, held_forward
from relay.services.quotes import quote_send
from relay.services.slots import slots_offer
from relay.timeline import Actor


class MediationActions:
    """Actions of SessionViewSet (which gives get_object)."""

    @extend_schema(responses={200: MessageSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None)
    def held(self, request: Request, pk=None) -> Response:
        """Messages waiting for an agent, oldest first."""
        session = self.get_object()
        waiting = session.messages.filter(status=MessageStatus.AWAITING_AGENT).select_related(
            "participant", "session", "contact"
        )
        return Response(MessageSerializer(waiting.order_by("id"), many=True).data)

    @extend_schema(
        request=HeldActionSerializer,
        responses={200: MessageSerializer(many=True), **errors(422)},
        description="forward: pass the held message on (with `text`: that edit in its place, "
        "the original kept); answer: write `text` to its writer instead; discard: drop it, "
        "with a `reason`. 422 when the message is not waiting for an agent.",
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"held/(?P<message_id>\d{1,18})/(?P<what>forward|answer|discard)",
        pagination_class=None,
    )
    def held_action(self, request: Request, pk=None, message_id=None, what=None) -> Response:
        session = self.get_object()
        data = validated(HeldActionSerializer, request.data)
        actor, message_id = Actor.of_api_key(request.auth), int(message_id)
        if what == "forward":
            done = [
                held_forward(
                    session=session, message_id=message_id, actor=actor, text=data.get("text")
                )
            ]
        elif what == "answer":
            done = held_answer(
                session=session, message_id=message_id, actor=actor, text=_given(data, "text")
            )
        else:
            done = [
                held_discard(
                    session=session,
                    message_id=message_id,
                    actor=actor,
                    reason=_given(data, "reason"),
                )
            ]
        return Response(MessageSerializer(done, many=True).data)

    @extend_schema(responses={200: QuoteSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None)
    def quotes(self, request: Request, pk=None) -> Response:
        """The partner's quotes, newest first, with the margins added."""
        return Response(QuoteSerializer(self.get_object().quotes.all(), many=True).data)

    @extend_schema(
        request=QuoteSendSerializer,
        responses={200: QuoteSerializer, **errors(422)},
        description="Add a margin (percent or amount) and send the customer the final price; "
        "they never see the partner's.",
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"quotes/(?P<quote_id>\d{1,18})/send",
        pagination_class=None,
    )
    def quote_send(self, request: Request, pk=None, quote_id=None) -> Response:
        session = self.get_object()
        data = validated(QuoteSendSerializer, request.data)
        quote = quote_send(
            session=session, quote_id=int(quote_id), actor=Actor.of_api_key(request.auth), **data
        )
        return Response(QuoteSerializer(quote).data)

    @extend_schema(
        request=SlotsOfferSerializer,
        responses={200: SlotSerializer(many=True), 201: SlotSerializer(many=True), **errors(422)},
        description="GET: the times offered and the appointment, in order. POST: offer these "
        "times to the customer as a list (as /slots does); what was offered before is "
        "withdrawn and an appointment already set is to be moved. 422 for a time that has "
        "passed.",
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def slots(self, request: Request, pk=None) -> Response:
        session = self.get_object()
        if request.method == "GET":
            return Response(SlotSerializer(session.slots.all(), many=True).data)
        times = sorted(set(validated(SlotsOfferSerializer, request.data)["starts_at"]))
        if times[0] <= timezone.now():
            raise RelayError(f"{times[0].isoformat()} has passed: offer times to come")
        offered = slots_offer(session=session, times=times, actor=Actor.of_api_key(request.auth))
        return Response(SlotSerializer(offered, many=True).data, status=201)

    @extend_schema(responses={200: NoteSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None)
    def notes(self, request: Request, pk=None) -> Response:
        """Private notes (written with /note): no participant ever receives them."""
        return Response(NoteSerializer(self.get_object().notes.all(), many=True).data)


def _given(data: dict, field: str) -> str:
    if not data.get(field):
        raise ValidationError({field: ["This field is required."]})
    return data[field]
