from __future__ import annotations

from django.urls import path

from console import chat_views, views

app_name = "console"

urlpatterns = [
    path("", views.console_index, name="index"),
    path("<int:site_id>/", views.console_index, name="site-index"),
    path("chats.json", chat_views.chats_json, name="chats-json"),
    path("stream-ticket/", chat_views.chats_stream_ticket, name="chats-stream-ticket"),
    path("chats/<int:chat_id>/", chat_views.chat_detail, name="chat"),
    path("chats/<int:chat_id>/poll/", chat_views.chat_poll, name="chat-poll"),
    path(
        "chats/<int:chat_id>/stream-ticket/",
        chat_views.chat_stream_ticket,
        name="chat-stream-ticket",
    ),
    path("chats/<int:chat_id>/send/", chat_views.chat_send, name="chat-send"),
    path("chats/<int:chat_id>/seen/", chat_views.chat_seen, name="chat-seen"),
    path("chats/<int:chat_id>/typing/", chat_views.chat_typing_view, name="chat-typing"),
    path("chats/<int:chat_id>/accept/", chat_views.chat_accept_view, name="chat-accept"),
    path("chats/<int:chat_id>/close/", chat_views.chat_close_view, name="chat-close"),
    path(
        "chats/<int:chat_id>/signin-request/",
        chat_views.chat_signin_request,
        name="chat-signin-request",
    ),
]
