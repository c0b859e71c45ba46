from django.urls import path

from relay.inbox import views

app_name = "inbox"
session = "sessions/<int:session_id>/"
urlpatterns = [
    path("", views.inbox_list, name="list"),
    path(session, views.thread_page, name="thread"),
    path(f"{session}live/", views.thread_live, name="live"),
    path(f"{session}commands/", views.command_options, name="command-options"),
    path(f"{session}command/", views.command, name="command"),
    path(f"{session}reply/", views.reply, name="reply"),
    path(f"{session}notes/", views.note, name="note"),
    path(f"{session}status/", views.booking_status, name="status"),
    path(f"{session}assign/", views.assign, name="assign"),
    path(f"{session}media/<int:message_id>/", views.media, name="media"),
    path(f"{session}held/<int:message_id>/<str:what>/", views.held, name="held"),
    path(f"{session}quotes/<int:quote_id>/send/", views.quote, name="quote"),
]
