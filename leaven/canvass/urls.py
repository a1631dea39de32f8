from django.urls import path

from leaven.canvass import views

app_name = "canvass"

urlpatterns = [
    path("canvass/", views.home, name="home"),
]
