from django.urls import path

from leaven.rapid_response import views

app_name = "rapid_response"

urlpatterns = [
    path("rapid/", views.dashboard, name="dashboard"),
    path("rapid/live/", views.dashboard_rows, name="dashboard_rows"),
    path("rapid/hotline/", views.hotline, name="hotline"),
    path("rapid/incidents/<int:pk>/", views.incident, name="incident"),
    path("rapid/incidents/<int:pk>/state/", views.incident_state, name="incident_state"),
    path("rapid/incidents/<int:pk>/verify/", views.incident_verify, name="incident_verify"),
    path("rapid/incidents/<int:pk>/hold/", views.incident_hold, name="incident_hold"),
    path("rapid/incidents/<int:pk>/follow-up/", views.incident_followup, name="incident_followup"),
    path("rapid/responders/", views.responders, name="responders"),
    path("rapid/responders/new/", views.responder_add, name="responder_add"),
    path("rapid/responders/<int:pk>/", views.responder_edit, name="responder_edit"),
    path("rapid/responders/<int:pk>/active/", views.responder_active, name="responder_active"),
    path("rapid/report/<slug:slug>/", views.report, name="report"),
    path("rapid/report/<slug:slug>/thanks/", views.report_thanks, name="report_thanks"),
    path("rapid/a/<str:token>/", views.alert_link, name="alert_link"),
]
