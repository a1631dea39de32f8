from django.urls import path

from leaven.canvass import views

app_name = "canvass"

urlpatterns = [
    path("canvass/", views.home, name="home"),
    path("canvass/sw.js", views.service_worker, name="service_worker"),
    path("canvass/turfs/cut/", views.turf_cut, name="turf_cut"),
    path("canvass/turfs/map.json", views.turf_map_data, name="turf_map_data"),
    path("canvass/turfs/<int:pk>/", views.turf_detail, name="turf_detail"),
    path("canvass/turfs/<int:pk>/assign/", views.turf_assign, name="turf_assign"),
    path("canvass/doors/<int:pk>/move/", views.door_move, name="door_move"),
    path(
        "canvass/assignments/<int:pk>/handoff/",
        views.assignment_handoff,
        name="assignment_handoff",
    ),
    path("canvass/assignments/<int:pk>/revoke/", views.assignment_revoke, name="assignment_revoke"),
    path("canvass/scripts/", views.script_list, name="script_list"),
    path("canvass/scripts/<int:pk>/", views.script_detail, name="script_detail"),
    path("canvass/precincts/<str:code>/", views.precinct_strength, name="precinct_strength"),
    path("canvass/wards/", views.ward_list, name="ward_list"),
    path("canvass/wards/<str:code>/", views.ward_ranking, name="ward_ranking"),
    path("canvass/walk/<int:pk>/", views.walk, name="walk"),
    path("canvass/walk/<int:pk>/walklist.json", views.walklist, name="walklist"),
    path("canvass/walk/<int:pk>/sync", views.sync, name="sync"),
]
