"""REST API for SLA policies."""

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from relay.api.serializers import validated
from sla.api.serializers import PolicySerializer, PolicyWriteSerializer
from sla.models import SlaPolicy
from sla.services import VERSIONED, policy_change, policy_create


@extend_schema(tags=["sla"])
class SlaPolicyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Targets in whole seconds per clock; a change is a new version, and running clocks keep
    the version they started with."""

    serializer_class = PolicySerializer

    def get_queryset(self) -> QuerySet[SlaPolicy]:
        return SlaPolicy.objects.select_related("calendar").prefetch_related("versions")

    @extend_schema(request=PolicyWriteSerializer, responses={201: PolicySerializer})
    def create(self, request: Request) -> Response:
        data = validated(PolicyWriteSerializer, request.data)
        data["workflow"] = data["workflow"].slug
        data["partner"] = data["partner"].code if data.get("partner") else ""
        data["team"] = data["team"].slug if data.get("team") else ""
        policy = policy_create(**data)
        return Response(PolicySerializer(policy).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=PolicyWriteSerializer, responses={200: PolicySerializer})
    def partial_update(self, request: Request, pk=None) -> Response:
        policy = self.get_object()
        fixed = sorted(set(request.data) - set(VERSIONED))
        if fixed:
            raise ValidationError(
                {name: ["fixed once the policy exists; a new policy is needed"] for name in fixed}
            )
        serializer = PolicyWriteSerializer(policy, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = {k: v for k, v in serializer.validated_data.items() if k in VERSIONED}
        if changes:
            policy_change(policy, **changes)
        return Response(PolicySerializer(self.get_queryset().get(pk=policy.pk)).data)
