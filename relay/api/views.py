"""REST API for masking pools, proxy numbers and relay sessions."""

from datetime import timedelta

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from relay.api.mediation import MediationActions
from relay.api.schema import errors
from relay.api.serializers import (
    CommandOutcomeSerializer,
    CommandSerializer,
    MessageCreateSerializer,
    MessageSerializer,
    NumberSerializer,
    NumberUpdateSerializer,
    PoolSerializer,
    SessionCloseSerializer,
    SessionCreateSerializer,
    SessionSerializer,
    TemplateSerializer,
    TemplateSyncSerializer,
    validated,
)
from relay.choices import CommandUser, SessionStatus, TemplateStatus
from relay.commands.service import command_run
from relay.models import (
    MaskingPool,
    MessageTemplate,
    ProxyNumber,
    RelaySession,
)
from relay.providers.base import ProviderError
from relay.selectors import participants_reach, session_transcript, sessions_listed
from relay.services.queueing import session_message_send
from relay.services.sessions import (
    PartyInput,
    session_close,
    session_reopen,
)
from relay.services.templates import templates_sync
from relay.timeline import Actor
from routing.services.bookings import booking_open


@extend_schema(tags=["pools"])
class PoolViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    queryset = MaskingPool.objects.select_related("partner", "notice_template").order_by("id")
    serializer_class = PoolSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]


@extend_schema(tags=["templates"])
@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("name", str),
            OpenApiParameter("language", str, description="As WhatsApp names it, e.g. en_US"),
            OpenApiParameter("status", str, enum=TemplateStatus.values),
        ]
    )
)
class TemplateViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Templates are created and approved in WhatsApp Manager; they are read here after a
    sync (daily, or on demand)."""

    serializer_class = TemplateSerializer

    def get_queryset(self) -> QuerySet[MessageTemplate]:
        templates = MessageTemplate.objects.order_by("name", "language", "id")
        for name in ("name", "language", "status"):
            if value := self.request.query_params.get(name):
                templates = templates.filter(**{name: value})
        return templates

    @extend_schema(
        request=None,
        responses={200: TemplateSyncSerializer, **errors(502)},
        description="Fetch every template from WhatsApp now. 502 when WhatsApp cannot be "
        "asked (its error is in `detail`); nothing changes then.",
    )
    @action(detail=False, methods=["post"])
    def sync(self, request: Request) -> Response:
        try:
            result = templates_sync()
        except ProviderError as error:
            return Response({"detail": f"WhatsApp: {error}"}, status=status.HTTP_502_BAD_GATEWAY)
        return Response(TemplateSyncSerializer(result).data)


@extend_schema(tags=["numbers"])
@extend_schema_view(
    list=extend_schema(parameters=[OpenApiParameter("pool", int, description="Pool id")]),
    partial_update=extend_schema(request=NumberUpdateSerializer, responses=NumberSerializer),
)
class NumberViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = NumberSerializer

    def get_queryset(self) -> QuerySet[ProxyNumber]:
        numbers = ProxyNumber.objects.order_by("id")
        if pool := self.request.query_params.get("pool"):
            numbers = numbers.filter(pool=pool) if pool.isdigit() else numbers.none()
        return numbers

    def partial_update(self, request: Request, pk=None) -> Response:
        # Only the active flag changes: a number's identity is fixed once sessions use it.
        number = self.get_object()
        serializer = NumberUpdateSerializer(number, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return Response(NumberSerializer(number).data)


@extend_schema(tags=["sessions"])
@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("external_ref", str, description="Booking or order id"),
            OpenApiParameter("status", str, enum=SessionStatus.values),
        ]
    )
)
class SessionViewSet(
    MediationActions,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = SessionSerializer

    def get_queryset(self) -> QuerySet[RelaySession]:
        params = self.request.query_params
        return sessions_listed(
            external_ref=params.get("external_ref", ""), status=params.get("status", "")
        )

    def get_serializer(self, *args, **kwargs):
        # Whether each participant can be reached is worked out for all of them at once.
        if args and isinstance(args[0], RelaySession | list):
            sessions = [args[0]] if isinstance(args[0], RelaySession) else args[0]
            participants = [p for s in sessions for p in s.participants.all()]
            kwargs["context"] = self.get_serializer_context() | {
                "reach": participants_reach(participants)
            }
        return super().get_serializer(*args, **kwargs)

    def render(self, session: RelaySession) -> dict:
        return self.get_serializer(sessions_listed().get(pk=session.pk)).data

    @extend_schema(
        request=SessionCreateSerializer,
        responses={201: SessionSerializer, 200: SessionSerializer, **errors(409, 422)},
        description="Open a masked session: each participant gets a proxy number, and those "
        "its workflow names are sent its opening template. 400 for an unknown workflow. "
        "409 when the pool has no number left for a participant. Asking again for a booking "
        "whose session with this customer and partner is still live returns that session "
        "(200) instead of opening a second one; one whose session has ended reopens it "
        "(200), unless its workflow opens a new session each time.",
    )
    def create(self, request: Request) -> Response:
        data = validated(SessionCreateSerializer, request.data)
        ttl_hours = data.get("ttl_hours")
        session, created = booking_open(
            external_ref=data["external_ref"],
            workflow=data["workflow"],
            mode=data.get("mode", ""),
            customer=PartyInput(**data["customer"]),
            partner=data["partner"],
            partner_contact=data.get("partner_contact"),
            pool=data.get("pool"),
            team=data.get("team"),
            ttl=timedelta(hours=ttl_hours) if ttl_hours else None,
            actor=Actor.of_api_key(request.auth),
        )
        if not created:
            return Response(self.render(session), status=status.HTTP_200_OK)
        return Response(self.render(session), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=SessionCloseSerializer, responses={200: SessionSerializer, **errors(409)}
    )
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk=None) -> Response:
        session = self.get_object()
        data = validated(SessionCloseSerializer, request.data)
        closed = session_close(
            session=session, reason=data["reason"], actor=Actor.of_api_key(request.auth)
        )
        return Response(self.render(closed))

    @extend_schema(request=None, responses={200: SessionSerializer, **errors(409)})
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk=None) -> Response:
        reopened = session_reopen(session=self.get_object(), actor=Actor.of_api_key(request.auth))
        return Response(self.render(reopened))

    @extend_schema(
        responses=MessageSerializer(many=True),
        description="The session's messages, oldest first. Bodies written by a participant "
        "show contact details hidden unless the session was handed over.",
    )
    @action(detail=True, methods=["get"])
    def transcript(self, request: Request, pk=None) -> Response:
        page = self.paginate_queryset(session_transcript(session=self.get_object()))
        return self.get_paginated_response(MessageSerializer(page, many=True).data)

    @extend_schema(
        request=CommandSerializer,
        responses={200: CommandOutcomeSerializer, 400: CommandOutcomeSerializer},
        description="Run a slash command in the session as the calling system, with an "
        "agent's rights: 200 with what was done, or 400 saying what is wrong and how to "
        "write it, with nothing changed.",
    )
    @action(detail=True, methods=["post"], pagination_class=None)
    def commands(self, request: Request, pk=None) -> Response:
        session = self.get_object()
        data = validated(CommandSerializer, request.data)
        outcome = command_run(
            session=session,
            text=data["text"],
            user=CommandUser.AGENT,
            actor=Actor.of_api_key(request.auth),
        )
        answer = {"ok": outcome.ok, "reply": outcome.reply}
        return Response(answer, status=200 if outcome.ok else 400)

    @extend_schema(
        request=MessageCreateSerializer,
        responses={201: MessageSerializer(many=True), **errors(409)},
        description="Write to one participant. A long text is sent as several messages, all "
        "returned. 409 when the session is closed or expired.",
    )
    @action(detail=True, methods=["post"], pagination_class=None)
    def messages(self, request: Request, pk=None) -> Response:
        session = self.get_object()
        data = validated(MessageCreateSerializer, request.data)
        messages = session_message_send(
            session=session,
            to_role=data["to"],
            text=data["text"],
            actor=Actor.of_api_key(request.auth),
        )
        return Response(MessageSerializer(messages, many=True).data, status=201)
