from django.urls import path

from leaven.geo import views

app_name = "geo"

urlpatterns = [
    path("geo/", views.map_page, name="map"),
    path("geo/map.json", views.map_data, name="map_data"),
    path("geo/import/", views.import_page, name="import"),
    path("geo/precincts/<str:code>/", views.precinct_detail, name="precinct_detail"),
]
