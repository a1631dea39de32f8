from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from leaven.core.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("accounts/", include("allauth.urls")),
    path("i18n/setlang/", set_language, name="set_language"),
    path("operator/", admin.site.urls),
    path("", include("leaven.core.urls")),
    path("", include("leaven.people.urls")),
    path("", include("leaven.geo.urls")),
    path("", include("leaven.imports.urls")),
    path("", include("leaven.membership.urls")),
    path("", include("leaven.messaging.urls")),
    path("", include("leaven.events.urls")),
    path("", include("leaven.canvass.urls")),
    path("", include("leaven.rapid_response.urls")),
    path("", include("leaven.api.urls")),
]
