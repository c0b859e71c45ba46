"""PATCH /api/v1/bookings/{external_ref}/: the booking system updates a booking (status,
time, partner), with an `Idempotency-Key` honoured for 24 hours; GET .../transcript/ gives
its full record."""

import csv
import io

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm_sync.bookings import booking_session, booking_update
from crm_sync.idempotency import HEADER, idempotent
from crm_sync.transcripts import COLUMNS, transcript_of, transcript_rows
from relay.choices import SlotStatus
from relay.exceptions import NotFound
from relay.timeline import Actor
from routing.models import Partner
from routing.selectors import workflow_find


class BookingUpdateSerializer(serializers.Serializer):
    status = serializers.CharField(required=False, max_length=50)
    starts_at = serializers.DateTimeField(required=False, help_text="The appointment, ISO 8601.")
    partner = serializers.SlugRelatedField(
        slug_field="code", queryset=Partner.objects.filter(active=True), required=False
    )

    def validate(self, values: dict) -> dict:
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {
                    name: ["not a field of a booking update: status, starts_at, partner"]
                    for name in unknown
                }
            )
        if not values:
            raise serializers.ValidationError(
                {"non_field_errors": ["give at least one of status, starts_at, partner"]}
            )
        flow = workflow_find(self.context["session"].workflow)
        if "status" in values and values["status"] not in flow.statuses:
            raise serializers.ValidationError(
                {
                    "status": [
                        f"not a status of {flow.name}; its statuses: {', '.join(flow.statuses)}"
                    ]
                }
            )
        return values


def booking_answer(session) -> dict:
    appointment = session.slots.filter(status=SlotStatus.CONFIRMED).order_by("-pk").first()
    return {
        "external_ref": session.external_ref,
        "session_id": session.pk,
        "workflow": session.workflow,
        "status": session.booking_status,
        "partner": session.partner.code if session.partner_id else None,
        "starts_at": appointment.starts_at if appointment else None,
        "live": session.is_live(),
    }


class BookingView(APIView):
    @extend_schema(
        tags=["crm"],
        request=BookingUpdateSerializer,
        parameters=[
            OpenApiParameter(
                HEADER,
                str,
                location=OpenApiParameter.HEADER,
                description="A repeat within 24 hours answers as the first and changes nothing.",
            )
        ],
        responses={200: dict},
    )
    def patch(self, request: Request, external_ref: str) -> Response:
        def run() -> Response:
            try:
                session = booking_session(external_ref)
            except NotFound as exc:
                return Response({"detail": exc.message}, status=404)
            serializer = BookingUpdateSerializer(data=request.data, context={"session": session})
            serializer.is_valid(raise_exception=True)
            session = booking_update(
                session=session, actor=Actor.of_api_key(request.auth), **serializer.validated_data
            )
            return Response(booking_answer(session))

        return idempotent(request, run)


class TranscriptCsvRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        out = io.StringIO()
        if "entries" in data:
            writer = csv.DictWriter(out, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(transcript_rows(data))
        else:  # an error
            csv.writer(out).writerows([["error"], [data.get("detail", data)]])
        return out.getvalue().encode()


class TranscriptView(APIView):
    """The booking's full record, in order (numbers masked: an API key is not a person
    allowed to see them)."""

    renderer_classes = [JSONRenderer, TranscriptCsvRenderer]

    @extend_schema(
        tags=["crm"],
        parameters=[OpenApiParameter("format", str, enum=["json", "csv"])],
        responses={200: dict},
    )
    def get(self, request: Request, external_ref: str) -> Response:
        return Response(transcript_of(external_ref, numbers_shown=False))
