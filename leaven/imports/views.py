"""Import pages: upload, mapping, preview, run with live progress, results. Thin: parse the
form, call a selector or a service, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from leaven.core import permissions
from leaven.core.forms import unit_choices
from leaven.core.selectors import unit_list_for_actor
from leaven.imports import pipeline, selectors, services
from leaven.imports.forms import MappingForm, PresetForm, UploadForm
from leaven.imports.models import ImportJob


@login_required
@require_http_methods(["GET", "POST"])
def job_list(request: HttpRequest) -> HttpResponse:
    units = unit_choices(request.user, permissions.IMPORTS_RUN)
    if not units:
        raise Http404
    form = UploadForm(request.POST or None, request.FILES or None, units=units)
    if request.method == "POST" and form.is_valid():
        unit = unit_list_for_actor(actor=request.user, permission=permissions.IMPORTS_RUN).get(
            pk=form.cleaned_data["unit"]
        )
        upload = form.cleaned_data["file"]
        try:
            job = services.job_upload(
                actor=request.user,
                owner_unit=unit,
                file_name=upload.name,
                stream=upload,
                size=upload.size,
            )
        except ValidationError as exc:
            form.add_error("file", exc)
        else:
            return redirect("imports:job_detail", job_id=job.pk)
    jobs = selectors.job_list_for_actor(actor=request.user)[:50]
    return render(request, "imports/job_list.html", {"form": form, "jobs": jobs})


def _progress(job: ImportJob) -> dict[str, Any]:
    done = job.rows_read
    total = max(job.rows_total, done, 1)
    rate = 0.0
    left = None
    if job.started_at and done:
        end = job.finished_at or timezone.now()
        seconds = max((end - job.started_at).total_seconds(), 0.001)
        rate = done / seconds
        if not job.finished and rate:
            left = int((total - done) / rate)
    return {
        "percent": min(100, int(done * 100 / total)),
        "rate": int(rate),
        "seconds_left": left,
        "imported": job.rows_created,
    }


@login_required
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = selectors.job_get_for_actor(actor=request.user, job_id=job_id)
    context: dict[str, Any] = {"job": job, "progress": _progress(job)}
    if not job.encoding_confirmed:
        context["non_ascii"] = services.non_ascii_preview(job)
        return render(request, "imports/job_encoding.html", context)
    if job.state == ImportJob.State.UPLOADED or (
        job.state == ImportJob.State.PREVIEWED and request.GET.get("edit")
    ):
        return _mapping_page(request, job, None)
    if job.state == ImportJob.State.PREVIEWED:
        rows = services.job_preview(job=job)
        context["preview"] = rows
        context["fields"] = [
            (name, label) for name, label in pipeline.FIELDS.items()
            if name in job.mapping.get("columns", {}) or name in job.mapping.get("constants", {})
        ]  # fmt: skip
        context["preview_problems"] = sum(1 for r in rows if isinstance(r, list))
        return render(request, "imports/job_preview.html", context)
    context["rejects"] = job.rejects.all()[:50]
    return render(request, "imports/job_run.html", context)


def _mapping_page(request: HttpRequest, job: ImportJob, form: MappingForm | None) -> HttpResponse:
    saved = list(selectors.mappings_for_job(actor=request.user, job=job).values_list("pk", "name"))
    source = request.GET.get("source", "")
    preset_form = PresetForm(
        request.GET if source else None,
        saved=saved,
        initial={"source": f"preset:{_guess_preset(job)}"},
    )
    if form is None:
        resolved: dict[str, Any] = {"columns": job.mapping.get("columns", {})}
        if source.startswith("saved:") and source[6:].isdigit():
            chosen = selectors.mapping_get_for_actor(
                actor=request.user, job=job, mapping_id=int(source[6:])
            )
            resolved = services.resolve_mapping(job=job, saved=chosen)
        elif source.startswith("preset:") or not resolved["columns"]:
            key = source[7:] if source.startswith("preset:") else _guess_preset(job)
            resolved = services.resolve_mapping(job=job, preset=key)
        form = MappingForm(
            header=list(job.header),
            initial_columns=resolved["columns"],
            initial={"mode": job.mode},
        )
    return render(
        request,
        "imports/job_mapping.html",
        {"job": job, "form": form, "preset_form": preset_form},
    )


def _guess_preset(job: ImportJob) -> str:
    header = {h.lower() for h in job.header}
    if {"voter_reg_num", "ncid", "res_street_address"} <= header:
        return "ncvoter"
    if "can2_phone" in header or "can2_subscription_status" in header:
        return "actionnetwork"
    generic = pipeline.preset_columns(pipeline.PRESETS["generic"], list(job.header))
    action = pipeline.preset_columns(pipeline.PRESETS["actionnetwork"], list(job.header))
    return "actionnetwork" if len(action) > len(generic) else "generic"


@login_required
@require_POST
def job_encoding(request: HttpRequest, job_id: int) -> HttpResponse:
    job = selectors.job_get_for_actor(actor=request.user, job_id=job_id)
    services.job_confirm_encoding(actor=request.user, job=job)
    return redirect("imports:job_detail", job_id=job.pk)


@login_required
@require_POST
def job_mapping(request: HttpRequest, job_id: int) -> HttpResponse:
    job = selectors.job_get_for_actor(actor=request.user, job_id=job_id)
    form = MappingForm(request.POST, header=list(job.header), initial_columns={})
    if form.is_valid():
        constants = {}
        columns = form.columns()
        if "registration_number" in columns and {"voter_reg_num", "ncid"} <= set(job.header):
            constants["voter_state"] = "NC"
        try:
            services.job_set_mapping(
                actor=request.user,
                job=job,
                columns=columns,
                constants=constants,
                mode=form.cleaned_data["mode"],
                name=form.cleaned_data["save_as"],
            )
            if form.cleaned_data["save_as"]:
                services.mapping_save(
                    actor=request.user,
                    owner_unit=job.owner_unit,
                    name=form.cleaned_data["save_as"],
                    columns=columns,
                    constants=constants,
                    delimiter=job.delimiter,
                )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect("imports:job_detail", job_id=job.pk)
    return _mapping_page(request, job, form)


@login_required
@require_POST
def job_start(request: HttpRequest, job_id: int) -> HttpResponse:
    job = selectors.job_get_for_actor(actor=request.user, job_id=job_id)
    try:
        services.job_start(actor=request.user, job=job)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("imports:job_detail", job_id=job.pk)


@login_required
def job_progress(request: HttpRequest, job_id: int) -> HttpResponse:
    job = selectors.job_get_for_actor(actor=request.user, job_id=job_id)
    return render(request, "imports/_progress.html", {"job": job, "progress": _progress(job)})


@login_required
@require_POST
def job_cancel(request: HttpRequest, job_id: int) -> HttpResponse:
    job = selectors.job_get_for_actor(actor=request.user, job_id=job_id)
    services.job_cancel(actor=request.user, job=job)
    messages.info(request, _("The import will stop after the batch it is writing."))
    return redirect("imports:job_detail", job_id=job.pk)


@login_required
@require_POST
def job_resume(request: HttpRequest, job_id: int) -> HttpResponse:
    job = selectors.job_get_for_actor(actor=request.user, job_id=job_id)
    try:
        services.job_resume(actor=request.user, job=job)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("imports:job_detail", job_id=job.pk)


@login_required
def job_rejects(request: HttpRequest, job_id: int) -> StreamingHttpResponse:
    job = selectors.job_get_for_actor(actor=request.user, job_id=job_id)
    response = StreamingHttpResponse(
        services.reject_csv_lines(job=job), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-rejects.csv"'
    return response
