from django.urls import path

from leaven.api import views

app_name = "api"

urlpatterns = [
    path("settings/api/", views.key_list, name="key_list"),
]
