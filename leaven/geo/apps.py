from pathlib import Path

import leaflet
from django.apps import AppConfig


class GeoConfig(AppConfig):
    default = True
    name = "leaven.geo"
    label = "geo"
    verbose_name = "Geography"


class LeafletAssetsConfig(AppConfig):
    """django-leaflet's static files (leaflet/leaflet.js, leaflet/leaflet.css, images) without
    installing the package as an app: its admin and form widgets import GeoDjango, which needs
    the GDAL system library. Leaven stores boundaries as GeoJSON text and uses only Leaflet."""

    name = "leaven.geo.leaflet_assets"
    label = "leaflet_assets"
    verbose_name = "Leaflet"
    path = str(Path(leaflet.__file__).resolve().parent)
