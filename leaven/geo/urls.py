from django.urls import URLPattern

app_name = "geo"

urlpatterns: list[URLPattern] = []
