from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
    path("webhooks/", include("relay.webhooks.urls")),
    path("api/v1/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Split: the page's script is a file of its own, as the Content Security Policy wants.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("simulator/", include("relay.simulator.urls")),
    path("inbox/", include("relay.inbox.urls")),
    path("dashboard/", include("sla.urls")),
    path("bookings/", include("crm_sync.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
]
