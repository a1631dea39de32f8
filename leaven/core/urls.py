from django.urls import path

from leaven.core import views

app_name = "core"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("units/", views.unit_list, name="unit_list"),
    path("units/<slug:slug>/", views.unit_detail, name="unit_detail"),
    path("units/<slug:slug>/new/", views.unit_create, name="unit_create"),
    path("units/<slug:slug>/edit/", views.unit_edit, name="unit_edit"),
    path("units/<slug:slug>/audit/", views.unit_audit, name="unit_audit"),
]
