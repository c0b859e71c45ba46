from django.urls import path

from sla.views import dashboard_csv, dashboard_page

app_name = "sla"
urlpatterns = [
    path("", dashboard_page, name="dashboard"),
    path("kpis.csv", dashboard_csv, name="dashboard-csv"),
]
