"""REST API, version 1. One router for every app's resources, under the "api" namespace."""

from rest_framework.routers import SimpleRouter

from relay.api.views import NumberViewSet, PoolViewSet, SessionViewSet, TemplateViewSet
from routing.api.views import PartnerViewSet

app_name = "api"

router = SimpleRouter()
router.register("pools", PoolViewSet, basename="pool")
router.register("numbers", NumberViewSet, basename="number")
router.register("partners", PartnerViewSet, basename="partner")
router.register("sessions", SessionViewSet, basename="session")
router.register("templates", TemplateViewSet, basename="template")

urlpatterns = router.urls
