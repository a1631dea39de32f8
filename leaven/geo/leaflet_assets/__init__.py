"""Leaflet's JavaScript, CSS and images, served as static files from the django-leaflet
package (see leaven.geo.apps.LeafletAssetsConfig)."""
