"""``/chat/...``: the embedded chat window and its endpoints (``chats:*``)."""

from __future__ import annotations

from django.urls import path

from chats import views

app_name = "chats"

WINDOW = "<int:site_id>/<int:campaign_id>/"

urlpatterns = [
    path("loader.js", views.loader_js, name="loader"),
    path(WINDOW, views.chat_window, name="window"),
    path(f"{WINDOW}signed-in/", views.handoff_page, name="handoff"),
    path(f"{WINDOW}api/state/", views.api_state, name="api-state"),
    path(f"{WINDOW}api/start/", views.api_start, name="api-start"),
    path(f"{WINDOW}api/send/", views.api_send, name="api-send"),
    path(f"{WINDOW}api/poll/", views.api_poll, name="api-poll"),
    path(f"{WINDOW}api/redeem/", views.api_redeem, name="api-redeem"),
    path(f"{WINDOW}api/seen/", views.api_seen, name="api-seen"),
    path(f"{WINDOW}api/typing/", views.api_typing, name="api-typing"),
    path(f"{WINDOW}api/sign-out/", views.api_sign_out, name="api-sign-out"),
]
