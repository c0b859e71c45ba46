"""REST API for partners and their contacts."""

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from relay.api.schema import errors
from routing.api.serializers import PartnerCreateSerializer, PartnerSerializer
from routing.choices import PartnerKind
from routing.models import Partner, PartnerContact
from routing.services.partners import PartnerContactInput, partner_create


@extend_schema(tags=["partners"])
class PartnerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = PartnerSerializer
    lookup_field = "code"

    def get_queryset(self) -> QuerySet[Partner]:
        contacts = PartnerContact.objects.select_related("contact")
        return Partner.objects.prefetch_related(Prefetch("contacts", queryset=contacts))

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
        )
        output = PartnerSerializer(self.get_queryset().get(pk=partner.pk)).data
        return Response(output, status=status.HTTP_201_CREATED)
