"""REST API for CRM endpoints and the outbox (DESIGN.md, "CRM endpoints")."""

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from crm_sync.api.serializers import (
    AttemptSerializer,
    EndpointCreatedSerializer,
    EndpointSerializer,
    EndpointWriteSerializer,
    EventSerializer,
    ReplaySinceSerializer,
    SecretSerializer,
)
from crm_sync.models import Attempt, Endpoint, OutboxEvent
from crm_sync.services import (
    endpoint_create,
    endpoint_replay,
    endpoint_resume,
    endpoint_rotate_secret,
    event_replay,
)
from relay.api.serializers import validated

ATTEMPTS_SHOWN = 200


@extend_schema(tags=["crm"])
class EndpointViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Where events go, signed (Standard Webhooks); the secret appears only on creation and
    rotation."""

    serializer_class = EndpointSerializer
    queryset = Endpoint.objects.all()

    @extend_schema(request=EndpointWriteSerializer, responses={201: EndpointCreatedSerializer})
    def create(self, request: Request) -> Response:
        data = validated(EndpointWriteSerializer, request.data)
        data.pop("active", None)
        endpoint, secret = endpoint_create(**data)
        answer = {**EndpointSerializer(endpoint).data, "secret": secret}
        return Response(answer, status=status.HTTP_201_CREATED)

    @extend_schema(request=EndpointWriteSerializer, responses={200: EndpointSerializer})
    def partial_update(self, request: Request, pk=None) -> Response:
        endpoint = self.get_object()
        serializer = EndpointWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        for name, value in serializer.validated_data.items():
            setattr(endpoint, name, value)
        endpoint.save()
        return Response(EndpointSerializer(endpoint).data)

    @extend_schema(request=None, responses={200: SecretSerializer})
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, pk=None) -> Response:
        """A new secret; the old one signs beside it for 24 hours."""
        return Response({"secret": endpoint_rotate_secret(self.get_object())})

    @extend_schema(request=None, responses={200: EndpointSerializer})
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk=None) -> Response:
        """A paused endpoint gets what waited for it, in order."""
        endpoint = self.get_object()
        endpoint_resume(endpoint)
        endpoint.refresh_from_db()
        return Response(EndpointSerializer(endpoint).data)

    @extend_schema(responses={200: AttemptSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def attempts(self, request: Request, pk=None) -> Response:
        """Its latest attempts, newest first."""
        attempts = (
            Attempt.objects.filter(delivery__endpoint=self.get_object())
            .select_related("delivery__event")
            .order_by("-id")[:ATTEMPTS_SHOWN]
        )
        return Response(AttemptSerializer(attempts, many=True).data)

    @extend_schema(request=ReplaySinceSerializer, responses={202: None})
    @action(detail=True, methods=["post"])
    def replay(self, request: Request, pk=None) -> Response:
        """Everything dead-lettered for it since a time goes again."""
        since = validated(ReplaySinceSerializer, request.data)["since"]
        replayed = endpoint_replay(self.get_object(), since=since)
        return Response({"replayed": replayed}, status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=["crm"])
class EventViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The outbox, oldest first."""

    serializer_class = EventSerializer
    lookup_field = "event_id"

    def get_queryset(self) -> QuerySet[OutboxEvent]:
        events = OutboxEvent.objects.order_by("pk")
        ref = self.request.query_params.get("external_ref")
        return events.filter(external_ref=ref) if ref else events

    @extend_schema(
        parameters=[OpenApiParameter("external_ref", str, description="A booking's events.")]
    )
    def list(self, request: Request) -> Response:
        return super().list(request)

    @extend_schema(request=None, responses={202: None})
    @action(detail=True, methods=["post"])
    def replay(self, request: Request, event_id=None) -> Response:
        """The event goes again, with the same webhook-id, to every endpoint that subscribes."""
        event = self.get_object()
        if not event.fanned_out:
            raise ValidationError({"id": ["this event has not been sent yet: it goes shortly"]})
        return Response({"replayed": event_replay(event)}, status=status.HTTP_202_ACCEPTED)
