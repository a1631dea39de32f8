from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound


@login_required
def key_list(request: HttpRequest) -> HttpResponse:
    return HttpResponseNotFound()
