from django.urls import URLPattern

app_name = "messaging"

urlpatterns: list[URLPattern] = []
