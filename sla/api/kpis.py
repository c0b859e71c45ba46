"""GET /api/v1/kpis/: the figures the dashboard shows, as JSON or (`format=csv`) CSV."""

import csv
import io

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from relay.api.serializers import validated
from routing.models import Workflow
from sla.kpis import GROUP_BY, kpis_period, kpis_report, kpis_rows

CSV_COLUMNS = ("group", "kpi", "p50_s", "p90_s", "value", "n")


class KpiQuerySerializer(serializers.Serializer):
    workflow = serializers.SlugRelatedField(
        slug_field="slug", queryset=Workflow.objects.all(), required=False
    )
    group_by = serializers.ChoiceField(choices=GROUP_BY, default="workflow")
    to = serializers.DateField(required=False)

    def get_fields(self) -> dict:
        fields = super().get_fields()
        fields["from"] = serializers.DateField(required=False)  # a keyword: not an attribute
        return fields

    def validate(self, values: dict) -> dict:
        start, end = kpis_period(
            values.pop("from", None), values.pop("to", None), today=timezone.now().date()
        )
        if start > end:
            raise serializers.ValidationError({"from": ["must be on or before 'to'"]})
        return {**values, "start": start, "end": end}


class CsvRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        out = io.StringIO()
        if "groups" in data:
            writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
            writer.writeheader()
            writer.writerows(kpis_rows(data))
        else:  # an error: its fields and messages
            writer = csv.writer(out)
            writer.writerow(["field", "error"])
            for name, problems in data.items():
                for problem in problems if isinstance(problems, list) else [problems]:
                    writer.writerow([name, problem])
        return out.getvalue().encode()


class KpiView(APIView):
    """Figures per partner, team, agent or workflow over a period (README, "KPIs")."""

    renderer_classes = [JSONRenderer, CsvRenderer]

    @extend_schema(
        tags=["sla"],
        parameters=[
            OpenApiParameter("workflow", str, description="A workflow's slug; blank: all."),
            OpenApiParameter("group_by", str, enum=GROUP_BY),
            OpenApiParameter("from", str, description="ISO date; default 30 days before 'to'."),
            OpenApiParameter("to", str, description="ISO date; default today."),
            OpenApiParameter("format", str, enum=["json", "csv"]),
        ],
        responses={200: dict},
    )
    def get(self, request: Request) -> Response:
        query = {k: v for k, v in request.query_params.items() if k != "format"}
        asked = validated(KpiQuerySerializer, query)
        workflow = asked.get("workflow")
        report = kpis_report(
            start=asked["start"],
            end=asked["end"],
            workflow=workflow.slug if workflow else "",
            group_by=asked["group_by"],
        )
        return Response(report)
