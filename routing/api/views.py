"""REST API for partners and their contacts."""

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from relay.api.schema import errors
from routing.api.parsers import CSVTextParser
from routing.api.serializers import (
    PartnerCreateSerializer,
    PartnerSerializer,
    ReferenceSerializer,
    RuleSerializer,
    TeamSerializer,
    WorkflowSerializer,
)
from routing.choices import PartnerKind
from routing.models import Partner, PartnerContact, Reference, Rule, Team, Workflow
from routing.services.partners import PartnerContactInput, partner_create
from routing.services.references import ImportRefused, reference_save, references_import


@extend_schema(tags=["partners"])
class PartnerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = PartnerSerializer
    lookup_field = "code"

    def get_queryset(self) -> QuerySet[Partner]:
        contacts = PartnerContact.objects.select_related("contact")
        return Partner.objects.prefetch_related(
            Prefetch("contacts", queryset=contacts), "specializations", "tags"
        )

    @extend_schema(
        request=PartnerCreateSerializer, responses={201: PartnerSerializer, **errors(422)}
    )
    def create(self, request: Request) -> Response:
        serializer = PartnerCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        partner = partner_create(
            code=data["code"],
            name=data["name"],
            kind=data.get("kind", PartnerKind.OTHER),
            contacts=[PartnerContactInput(**contact) for contact in data["contacts"]],
            specializations=data["specializations"],
            tags=data["tags"],
        )
        output = PartnerSerializer(self.get_queryset().get(pk=partner.pk)).data
        return Response(output, status=status.HTTP_201_CREATED)


@extend_schema(tags=["workflows"])
class WorkflowViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The kinds of booking an admin defined; a session's `workflow` is one of their slugs."""

    queryset = Workflow.objects.order_by("slug")
    serializer_class = WorkflowSerializer
    lookup_field = "slug"
    pagination_class = None


@extend_schema(tags=["teams"])
class TeamViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Team.objects.prefetch_related("agents__user").order_by("slug")
    serializer_class = TeamSerializer
    lookup_field = "slug"
    pagination_class = None


class ImportResultSerializer(serializers.Serializer):
    lines = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()


class ImportErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = serializers.ListField(child=serializers.DictField(), help_text="{line, error}")


@extend_schema(tags=["references"])
class ReferenceViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Order and product codes and the partner that owns each, for routing by a code."""

    serializer_class = ReferenceSerializer

    def get_queryset(self) -> QuerySet[Reference]:
        references = Reference.objects.select_related("partner").order_by("code")
        code = self.request.query_params.get("code")
        return references.filter(code=Reference.normalised(code)) if code else references

    @extend_schema(
        request=ReferenceSerializer,
        responses={201: ReferenceSerializer, 200: ReferenceSerializer},
        description="Say which partner owns a code: 201 for a new code, 200 when it changed "
        "hands or was known already.",
    )
    def create(self, request: Request) -> Response:
        serializer = ReferenceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reference, created = reference_save(**serializer.validated_data)
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(ReferenceSerializer(reference).data, status=code)

    @extend_schema(
        request={"text/csv": {"type": "string"}},
        responses={200: ImportResultSerializer, 400: ImportErrorSerializer, **errors(409)},
        description="A CSV file whose first line is `code,partner`. All or nothing: when a "
        "line is bad, every bad line is listed with its number and nothing is imported.",
    )
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[CSVTextParser])
    def import_csv(self, request: Request) -> Response:
        try:
            result = references_import(request.data)
        except ImportRefused as refused:
            return Response(
                {"detail": refused.message, "errors": refused.errors},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(ImportResultSerializer(result).data)


@extend_schema(tags=["rules"])
class RuleViewSet(viewsets.ModelViewSet):
    """Routing rules, run in position order on the first message of a new session."""

    queryset = Rule.objects.order_by("position", "id")
    serializer_class = RuleSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
