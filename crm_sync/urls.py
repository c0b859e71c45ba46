from django.urls import path

from crm_sync.views import transcript_page

app_name = "crm_sync"
urlpatterns = [
    path("<str:external_ref>/transcript/", transcript_page, name="transcript"),
]
