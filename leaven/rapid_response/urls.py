from django.urls import path

from leaven.rapid_response import views

app_name = "rapid_response"

urlpatterns = [
    path("rapid/", views.dashboard, name="dashboard"),
]
