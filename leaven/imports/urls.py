from django.urls import path

from leaven.imports import views

app_name = "imports"

urlpatterns = [
    path("imports/", views.job_list, name="job_list"),
    path("imports/<int:job_id>/", views.job_detail, name="job_detail"),
    path("imports/<int:job_id>/encoding/", views.job_encoding, name="job_encoding"),
    path("imports/<int:job_id>/mapping/", views.job_mapping, name="job_mapping"),
    path("imports/<int:job_id>/start/", views.job_start, name="job_start"),
    path("imports/<int:job_id>/progress/", views.job_progress, name="job_progress"),
    path("imports/<int:job_id>/cancel/", views.job_cancel, name="job_cancel"),
    path("imports/<int:job_id>/resume/", views.job_resume, name="job_resume"),
    path("imports/<int:job_id>/rejects.csv", views.job_rejects, name="job_rejects"),
]
