"""REST API, version 1. One router for every app's resources, under the "api" namespace."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from crm_sync.api.bookings import BookingView, TranscriptView
from crm_sync.api.views import EndpointViewSet, EventViewSet
from relay.api.views import NumberViewSet, PoolViewSet, SessionViewSet, TemplateViewSet
from routing.api.views import (
    PartnerViewSet,
    ReferenceViewSet,
    RuleViewSet,
    TeamViewSet,
    WorkflowViewSet,
)
from sla.api.kpis import KpiView
from sla.api.views import SlaPolicyViewSet

app_name = "api"

router = SimpleRouter()
router.register("pools", PoolViewSet, basename="pool")
router.register("numbers", NumberViewSet, basename="number")
router.register("partners", PartnerViewSet, basename="partner")
router.register("sessions", SessionViewSet, basename="session")
router.register("templates", TemplateViewSet, basename="template")
router.register("workflows", WorkflowViewSet, basename="workflow")
router.register("teams", TeamViewSet, basename="team")
router.register("references", ReferenceViewSet, basename="reference")
router.register("rules", RuleViewSet, basename="rule")
router.register("sla-policies", SlaPolicyViewSet, basename="sla-policy")
router.register("endpoints", EndpointViewSet, basename="endpoint")
router.register("events", EventViewSet, basename="event")

urlpatterns = [
    *router.urls,
    path("kpis/", KpiView.as_view(), name="kpis"),
    path("bookings/<str:external_ref>/", BookingView.as_view(), name="booking"),
    path(
        "bookings/<str:external_ref>/transcript/",
        TranscriptView.as_view(),
        name="booking-transcript",
    ),
]
