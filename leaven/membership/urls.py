from django.urls import URLPattern, path

from . import views

app_name = "membership"

urlpatterns: list[URLPattern] = [
    path("join/<slug:slug>/", views.join, name="join"),
    path("join/<slug:slug>/thanks/", views.join_thanks, name="join_thanks"),
    path("membership/", views.member_list, name="member_list"),
    path("membership/me/<str:token>/", views.self_service, name="self_service"),
    path("membership/webhooks/stripe/", views.stripe_webhook, name="stripe_webhook"),
    path("membership/dues/", views.dues_report, name="dues_report"),
    path("membership/growth/", views.growth, name="growth"),
    path("membership/tiers/<slug:slug>/", views.tier_list, name="tier_list"),
    path("membership/<int:pk>/", views.member_detail, name="member_detail"),
    path("membership/<int:pk>/pay/", views.payment_create, name="payment_create"),
    path("membership/<int:pk>/status/", views.status_change, name="status_change"),
    path("membership/<int:pk>/waiver/", views.waiver_approve, name="waiver_approve"),
    path("membership/<int:pk>/link/", views.link_send, name="link_send"),
    path("membership/payments/<int:pk>/reverse/", views.payment_reverse, name="payment_reverse"),
]
