from django.urls import path

from leaven.events import views

app_name = "events"

urlpatterns = [
    path("events/", views.event_list, name="event_list"),
    path("events/new/", views.event_create, name="event_create"),
    path("events/<int:pk>/", views.event_detail, name="event_detail"),
    path("events/<int:pk>/edit/", views.event_edit, name="event_edit"),
    path("events/<int:pk>/groups/<int:quota_pk>/link/", views.quota_link, name="quota_link"),
    path("events/<int:pk>/add/<str:what>/", views.event_add, name="event_add"),
    path("events/<int:pk>/status/", views.event_status, name="event_status"),
    path("events/<int:pk>/checkin/", views.checkin, name="checkin"),
    path("events/<int:pk>/roster/", views.roster, name="roster"),
    path("events/<int:pk>/roster.csv", views.roster_csv, name="roster_csv"),
    path("events/<int:pk>/dashboard/", views.dashboard, name="mobilization_dashboard"),
    path("e/<slug:slug>/", views.event_public, name="event_public"),
    path("e/<slug:slug>/event.ics", views.event_ics, name="event_ics"),
    path("e/cancel/<str:token>/", views.rsvp_cancel, name="rsvp_cancel"),
    path("e/lead/<str:token>/", views.leader, name="leader"),
    path("e/feed/unit/<str:token>.ics", views.unit_feed, name="unit_feed"),
    path("e/feed/person/<str:token>.ics", views.person_feed, name="person_feed"),
]
