from django.urls import URLPattern

app_name = "membership"

urlpatterns: list[URLPattern] = []
