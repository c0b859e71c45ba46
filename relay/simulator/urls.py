from django.urls import path

from relay.simulator import views

app_name = "simulator"
urlpatterns = [
    path("", views.phone, name="phone"),
    path("messages/", views.message_send, name="message-send"),
]
