from django.urls import path

from leaven.messaging import views, webhooks

app_name = "messaging"

urlpatterns = [
    path("messaging/", views.broadcast_list, name="broadcast_list"),
    path("messaging/segments/", views.segment_list, name="segment_list"),
    path("messaging/segments/new/", views.segment_form, name="segment_create"),
    path("messaging/segments/count/", views.segment_count, name="segment_count"),
    path("messaging/segments/<int:pk>/", views.segment_form, name="segment_edit"),
    path("messaging/broadcasts/new/", views.broadcast_create, name="broadcast_create"),
    path("messaging/broadcasts/<int:pk>/", views.broadcast_detail, name="broadcast_detail"),
    path(
        "messaging/broadcasts/<int:pk>/preview/", views.broadcast_preview, name="broadcast_preview"
    ),
    path("messaging/broadcasts/<int:pk>/test/", views.broadcast_test, name="broadcast_test"),
    path("messaging/broadcasts/<int:pk>/send/", views.broadcast_send, name="broadcast_send"),
    path(
        "messaging/broadcasts/<int:pk>/schedule/",
        views.broadcast_schedule,
        name="broadcast_schedule",
    ),
    path("messaging/broadcasts/<int:pk>/cancel/", views.broadcast_cancel, name="broadcast_cancel"),
    path("messaging/inbox/", views.inbox, name="inbox"),
    path("messaging/review/", views.review_queue, name="review_queue"),
    path("messaging/inbox/<int:pk>/", views.inbound_detail, name="inbound_detail"),
    path("messaging/review/<int:pk>/", views.review_resolve, name="review_resolve"),
    # Public: no sign-in. The token is signed and opaque; it holds no address.
    path("m/u/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("m/twilio/inbound/", views.twilio_inbound, name="twilio_inbound"),
    path("m/twilio/status/", views.twilio_status, name="twilio_status"),
    # Email providers' tracking reports, checked by anymail (see webhooks.py).
    *webhooks.tracking_urls(),
]
