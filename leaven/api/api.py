"""The Action Network v2 / OSDI-compatible API (django-ninja), mounted at /api/v2.

Thin: each operation authenticates the key, reads through the scoped selectors, writes
through the services and answers in Action Network's HAL+JSON shape."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Callable
from typing import Any, NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Max, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from ninja import Field, NinjaAPI, Query, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import APIKeyHeader
from pydantic import ConfigDict

from leaven.api import odata, payloads, selectors, services, services_osdi
from leaven.api.models import ApiKey
from leaven.core.audit import audit_record
from leaven.events.models import RSVP, Event
from leaven.people.models import Person, Tag, Tagging

MAX_PAGE_SIZE = 25
CONTENT_TYPE = "application/hal+json; charset=utf-8"


class RateLimited(Exception):
    pass


class PeopleReadCapped(Exception):
    """The key has read as many people today as LEAVEN_API_DAILY_PEOPLE_READS allows."""


class OSDIToken(APIKeyHeader):
    """The `OSDI-API-Token` header (any case): an active key of a unit."""

    param_name = "OSDI-API-Token"

    def authenticate(self, request: HttpRequest, key: str | None) -> ApiKey | None:
        found = selectors.apikey_for_token(key or "")
        if found is None:
            return None
        limit = int(getattr(settings, "LEAVEN_API_RATE_LIMIT", 600))
        bucket = f"apirl:{found.token_hash[:20]}:{int(timezone.now().timestamp() // 60)}"
        count = cache.get_or_set(bucket, 0, timeout=120)
        try:
            count = cache.incr(bucket)
        except ValueError:
            cache.set(bucket, 1, timeout=120)
            count = 1
        if count > limit:
            raise RateLimited
        services.apikey_touch(key=found)
        request.api_actor = services.key_actor(found)  # type: ignore[attr-defined]
        return found


api = NinjaAPI(
    title="Leaven: Action Network-compatible API",
    version="2",
    description="Action Network API v2 / OSDI field names and link relations, scoped to the "
    "key's unit and the units below it.",
    auth=OSDIToken(),
    urls_namespace="api:osdi",
    docs_url=None,
    openapi_url="/openapi.json",
)


def _error(status: int, message: str) -> HttpResponse:
    return JsonResponse({"error": message}, status=status, content_type=CONTENT_TYPE)


@api.exception_handler(AuthenticationError)
def _unauthorized(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _error(401, "API Key invalid or not present")


@api.exception_handler(RateLimited)
def _throttled(request: HttpRequest, exc: Exception) -> HttpResponse:
    response = _error(429, "Too many requests: slow down")
    response["Retry-After"] = "60"
    return response


@api.exception_handler(PeopleReadCapped)
def _capped(request: HttpRequest, exc: Exception) -> HttpResponse:
    limit = _daily_people_reads()
    response = _error(
        429,
        f"Daily limit reached: this API key may read {limit} people per day (UTC). "
        "Try again after midnight UTC, or ask an administrator about the limit",
    )
    now = timezone.now().astimezone(dt.UTC)
    midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    response["Retry-After"] = str(max(1, math.ceil((midnight - now).total_seconds())))
    return response


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _error(404, "Not found")


@api.exception_handler(NinjaValidationError)
def _bad_shape(request: HttpRequest, exc: Exception) -> HttpResponse:
    errors = getattr(exc, "errors", [])
    where = ", ".join(
        ".".join(str(part) for part in error.get("loc", ()) if part not in ("body", "query"))
        for error in errors[:3]
    )
    return _error(400, f"Invalid request: {where}" if where else "Invalid request")


@api.exception_handler(DjangoValidationError)
def _rule_broken(request: HttpRequest, exc: Exception) -> HttpResponse:
    messages = exc.messages if isinstance(exc, DjangoValidationError) else []
    return _error(400, " ".join(str(message) for message in messages) or "Invalid request")


@api.exception_handler(odata.FilterError)
def _bad_filter(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _error(400, f"Invalid filter: {exc}")


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    status = exc.status_code if isinstance(exc, HttpError) else 400
    return _error(status, str(exc))


# Helpers --------------------------------------------------------------------------------


def _actor(request: HttpRequest) -> Any:
    return request.api_actor  # type: ignore[attr-defined]


def _key(request: HttpRequest) -> ApiKey:
    key = request.auth  # type: ignore[attr-defined]
    if not isinstance(key, ApiKey):
        raise AuthenticationError
    return key


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/api/v2").rstrip("/")


def _site(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def _ok(body: Any, status: int = 200) -> HttpResponse:
    return JsonResponse(body, status=status, safe=False, content_type=CONTENT_TYPE)


def _clean(value: Any) -> Any:
    """Incoming JSON without NUL characters (no database stores them)."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_clean(item) for item in value]
    if isinstance(value, dict):
        return {str(k).replace("\x00", ""): _clean(v) for k, v in value.items()}
    return value


class Page(Schema):
    page: int = Field(1, ge=1, le=1_000_000)
    per_page: int = Field(MAX_PAGE_SIZE, ge=1, le=1000)
    filter: str | None = Field(None, max_length=2000)


def _filter_text(params: Page) -> str:
    return (params.filter or "").strip()


def _collection(
    request: HttpRequest,
    *,
    path: str,
    relation: str,
    qs: QuerySet[Any],
    params: Page,
    serialize: Callable[[list[Any]], list[dict[str, Any]]],
    remember_count: bool = False,
) -> HttpResponse:
    """One page of a collection in Action Network's shape. Ordered by id; a client walking
    page after page is served by the id where the previous page ended (remembered for a
    few minutes), so page 4,000 costs what page 1 does. With `remember_count`, the total
    of an unfiltered collection is remembered for a few seconds (for the large ones: all
    people, a list's items)."""
    key = _key(request)
    per_page = min(params.per_page, MAX_PAGE_SIZE)
    page = params.page
    filter_text = _filter_text(params)
    scope = hashlib.sha256(
        f"{key.token_hash}|{path}|{filter_text}|{per_page}".encode()
    ).hexdigest()[:24]
    total: int | None = None
    count_key = ""
    if remember_count and not filter_text:
        # Counting everything a key may see is the slowest part of a page: remember it for
        # a few seconds, keyed on the newest id so a new record shows at once.
        fresh = qs.model._default_manager.aggregate(top=Max("pk"))["top"] or 0
        count_key = f"apicount:{scope}:{fresh}"
        total = cache.get(count_key)
    if total is None:
        total = qs.count()
        if count_key:
            cache.set(count_key, total, timeout=30)
    total_pages = math.ceil(total / per_page) if total else 0
    rows: list[Any] = []
    if page <= total_pages:
        anchor = cache.get(f"apipage:{scope}:{page - 1}") if page > 1 else None
        ordered = qs.order_by("pk")
        if anchor is not None:
            rows = list(ordered.filter(pk__gt=anchor)[:per_page])
        else:
            rows = list(ordered[(page - 1) * per_page : page * per_page])
        if rows:
            cache.set(f"apipage:{scope}:{page}", rows[-1].pk, timeout=600)
    base = _base(request)
    href = f"{base}/{path}"

    def link(number: int) -> dict[str, str]:
        query = f"?page={number}"
        if per_page != MAX_PAGE_SIZE:
            query += f"&per_page={per_page}"
        if filter_text:
            from urllib.parse import quote

            query += f"&filter={quote(filter_text)}"
        return {"href": href + query}

    items = serialize(rows)
    links: dict[str, Any] = {"self": link(page)}
    if page < total_pages:
        links["next"] = link(page + 1)
    if page > 1:
        links["previous"] = link(min(page - 1, max(total_pages, 1)))
    links[relation] = [item["_links"]["self"] for item in items]
    links["curies"] = payloads.CURIES
    body = {
        "total_pages": total_pages,
        "per_page": per_page,
        "page": page,
        "total_records": total,
        "_links": links,
        "_embedded": {relation: items},
    }
    return _ok(body)


class _Answer(NamedTuple):
    """What a write answers with: the record (its kind and id are all that a replay keeps),
    and whether sending it back is a read of a person already stored (counted and audited
    like any other read)."""

    record: Person | Tag | Tagging | Event | RSVP
    read: bool = False


# A record's kind, as a stored answer names it (see selectors.answered_record).
_ANSWER_KINDS: dict[type[Any], str] = {
    Person: "person",
    Tag: "tag",
    Tagging: "tagging",
    Event: "event",
    RSVP: "attendance",
}


class _ClaimLost(Exception):
    """The claim was taken over as stale while the request ran: its writes roll back."""


def _idempotent(request: HttpRequest, run: Callable[[], _Answer]) -> HttpResponse:
    """A POST with an Idempotency-Key: the key is claimed for this method, path, query
    string and body before anything runs. A repeat of the same request replays the first
    answer (rendered afresh, see below); the same key on another request is refused with
    422, and a repeat that arrives while the first is still running with 409; neither runs
    anything.

    The request's writes and its finished claim commit in one transaction, so a failure or
    a crash leaves both or neither: a request that fails gives its claim back (in a
    transaction of its own, after the rollback) and a retry runs it once. Messages and
    webhooks are queued on commit, so a rolled-back request sends nothing.

    Only a reference to the answered record is kept. A replay reads it again through the
    key's scoped selectors and renders it as it is now, exactly as a fresh read would: a
    record the key may no longer see, or one since deleted, is a 404, and no personal data
    outlives its record in stored answers. This is simpler and safer than keeping the body
    and hunting down the copies whenever a record changes or leaves a key's reach: a person
    deleted, a contact removed, a person moved to another unit, a key moved to another unit
    each would need its own purge, and one forgotten would leak. The answer is rendered
    after the commit, so a read refused then (the daily cap on people read) leaves the
    write done and its claim kept, and a repeat answers once the key may read again."""
    header = request.headers.get("Idempotency-Key", "").strip()
    key = _key(request)
    if not header:
        return _ok(_answer_body(request, run()))
    claim = services.idempotent_claim(
        key=key,
        idempotency_key=header,
        method=request.method or "POST",
        path=request.path.rstrip("/"),
        body_hash=services.request_fingerprint(request.body, request.META.get("QUERY_STRING", "")),
    )
    if claim.outcome == "replay" and claim.record is not None:
        record = claim.record
        return _ok(
            _replay_body(request, record.object_type, record.object_id), record.status or 200
        )
    if claim.outcome == "conflict":
        return _error(
            422,
            "This Idempotency-Key was already used for a different request (another path, "
            "query string or body): use a new key for a new request",
        )
    if claim.outcome == "run" and claim.record is not None:
        try:
            with transaction.atomic():
                answer = run()
                if not services.idempotent_complete(
                    record=claim.record,
                    status=200,
                    object_type=_ANSWER_KINDS[type(answer.record)],
                    object_id=answer.record.pk,
                ):
                    raise _ClaimLost
        except _ClaimLost:
            pass
        except BaseException:
            services.idempotent_release(record=claim.record)
            raise
        else:
            return _ok(_answer_body(request, answer))
    response = _error(
        409,
        "A request with this Idempotency-Key is still being processed: wait for it to "
        "finish, then retry to get its answer",
    )
    response["Retry-After"] = "1"
    return response


def _replay_body(request: HttpRequest, kind: str, pk: int | None) -> dict[str, Any]:
    """A stored answer rendered for this request: the record read again now, through the
    key's scoped selectors (404 when it may no longer see it), and a person counted as a
    read like any other."""
    record = selectors.answered_record(actor=_actor(request), kind=kind, pk=pk)
    return _answer_body(request, _Answer(record, read=isinstance(record, Person)))


def _answer_body(request: HttpRequest, answer: _Answer) -> dict[str, Any]:
    """The JSON of a write's record, for a first answer and a replay alike."""
    record = answer.record
    if answer.read:
        _people_read(request, [record])
    base = _base(request)
    if isinstance(record, Person):
        return _person_body(request, record)
    if isinstance(record, Tag):
        return payloads.tags_json(base, [record])[0]
    if isinstance(record, Tagging):
        return payloads.taggings_json(base, [record])[0]
    if isinstance(record, Event):
        return payloads.events_json(base, [record], _site(request))[0]
    return payloads.attendances_json(base, [record])[0]


def _person_body(request: HttpRequest, person: Person) -> dict[str, Any]:
    return payloads.people_json(_base(request), [person])[0]


def _linked_id(links: dict[str, Any] | None, relation: str) -> str:
    if not isinstance(links, dict):
        return ""
    target = links.get(relation)
    href = target.get("href") if isinstance(target, dict) else None
    if isinstance(href, str):
        return href.rstrip("/").rsplit("/", 1)[-1]
    return ""


# Request bodies -------------------------------------------------------------------------


class _Open(Schema):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class PersonIn(_Open):
    given_name: str | None = None
    family_name: str | None = None
    languages_spoken: list[str] | None = None
    email_addresses: list[dict[str, Any]] | None = None
    phone_numbers: list[dict[str, Any]] | None = None
    postal_addresses: list[dict[str, Any]] | None = None
    custom_fields: dict[str, Any] | None = None
    identifiers: list[str] | None = None
    add_tags: list[str] | None = None


class SignupIn(_Open):
    person: PersonIn
    add_tags: list[str] | None = None
    remove_tags: list[str] | None = None


class TagIn(_Open):
    name: str = Field(..., min_length=1, max_length=100)


class LinkedIn(_Open):
    links: dict[str, Any] | None = Field(None, alias="_links")


class EventIn(_Open):
    title: str | None = Field(None, max_length=200)
    name: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=20000)
    start_date: str | None = Field(None, max_length=40)
    end_date: str | None = Field(None, max_length=40)
    location: dict[str, Any] | None = None
    visibility: str | None = None
    capacity: int | None = Field(None, ge=0, le=100_000)
    identifiers: list[str] | None = None


class AttendanceIn(_Open):
    person: PersonIn | None = None
    add_tags: list[str] | None = None
    links: dict[str, Any] | None = Field(None, alias="_links")


class AttendanceUpdate(_Open):
    status: str | None = None
    identifiers: list[str] | None = None


def _dump(schema: Schema) -> dict[str, Any]:
    data: dict[str, Any] = _clean(schema.model_dump(by_alias=True, exclude_none=True))
    return data


# The entry point ------------------------------------------------------------------------

COLLECTIONS = {
    "osdi:people": ("people", "The collection of people in the system"),
    "osdi:tags": ("tags", "The collection of tags in the system"),
    "osdi:events": ("events", "The collection of events in the system"),
    "osdi:person_signup_helper": ("people", "The person signup helper for the system"),
    "osdi:messages": ("messages", "The collection of messages in the system"),
    "osdi:donations": ("donations", "The collection of donations in the system"),
    "osdi:lists": ("lists", "The collection of lists in the system"),
}


@api.get("", summary="The API entry point", operation_id="entry_point")
def entry_point(request: HttpRequest) -> HttpResponse:
    base = _base(request)
    links: dict[str, Any] = {"self": {"href": base, "title": "This API entry point"}}
    for relation, (path, title) in COLLECTIONS.items():
        links[relation] = {"href": f"{base}/{path}", "title": title}
    links["docs"] = {"href": "https://actionnetwork.org/docs", "title": "Documentation"}
    links["curies"] = payloads.CURIES
    return _ok(
        {
            "motd": "Welcome to Leaven's Action Network-compatible API (OSDI)",
            "vendor_name": "Leaven",
            "product_name": "Leaven",
            "osdi_version": "1.4.0",
            "max_pagesize": MAX_PAGE_SIZE,
            "namespace": "action_network",
            "_links": links,
        }
    )


# People ---------------------------------------------------------------------------------


def _daily_people_reads() -> int:
    return int(getattr(settings, "LEAVEN_API_DAILY_PEOPLE_READS", 50_000))


def _people_read(request: HttpRequest, rows: list[Any]) -> None:
    """People with their contact details left through the API: one audit event per page
    (the key, how many, the first and last id), as the person page audits each view. Each
    key reads at most LEAVEN_API_DAILY_PEOPLE_READS people a day (UTC): a page that would
    pass it is refused whole (429), and the refusal is audited."""
    if rows:
        key = _key(request)
        limit = _daily_people_reads()
        if not services.people_read_allow(key=key, count=len(rows), limit=limit):
            audit_record(
                actor=_actor(request),
                verb="api.people_read_capped",
                unit=key.unit,
                object_type="person",
                detail={"count": len(rows), "limit": limit},
            )
            raise PeopleReadCapped
        audit_record(
            actor=_actor(request),
            verb="api.people_read",
            unit=_key(request).unit,
            object_type="person",
            detail={"count": len(rows), "first": rows[0].pk, "last": rows[-1].pk},
        )


@api.get("/people", operation_id="people_list")
def people_list(request: HttpRequest, params: Query[Page]) -> HttpResponse:
    qs = selectors.person_queryset(actor=_actor(request), filter_text=_filter_text(params))
    base = _base(request)

    def serialize(rows: list[Any]) -> list[dict[str, Any]]:
        _people_read(request, rows)
        return payloads.people_json(base, rows)

    return _collection(
        request,
        path="people",
        relation="osdi:people",
        qs=qs,
        params=params,
        serialize=serialize,
        remember_count=True,
    )


@api.post("/people", operation_id="person_signup")
def person_signup(
    request: HttpRequest, body: SignupIn, background_processing: bool = False
) -> HttpResponse:
    def run() -> _Answer:
        data = _dump(body)
        result = services_osdi.person_signup(
            actor=_actor(request),
            unit=_key(request).unit,
            person=data.get("person", {}),
            add_tags=data.get("add_tags") or data.get("person", {}).get("add_tags"),
            remove_tags=data.get("remove_tags"),
        )
        # A person matched, not created: the answer carries their stored record, a read
        # counted and audited like any other. Past the day's cap the signup is still
        # recorded (sending it again changes nothing), but the record is not sent back.
        return _Answer(result.person, read=not result.created)

    return _idempotent(request, run)


@api.get("/people/{person_id}", operation_id="person_get")
def person_get(request: HttpRequest, person_id: str) -> HttpResponse:
    person = selectors.person_get(actor=_actor(request), identifier=person_id)
    _people_read(request, [person])
    return _ok(_person_body(request, person))


@api.put("/people/{person_id}", operation_id="person_update")
def person_update(
    request: HttpRequest, person_id: str, body: PersonIn, background_processing: bool = False
) -> HttpResponse:
    actor = _actor(request)
    person = selectors.person_get(actor=actor, identifier=person_id)
    # The answer carries the whole record: it counts as a read, checked before the write.
    _people_read(request, [person])
    person = services_osdi.person_put(actor=actor, person=person, data=_dump(body))
    return _ok(_person_body(request, person))


@api.get("/people/{person_id}/taggings", operation_id="person_taggings")
def person_taggings(request: HttpRequest, person_id: str, params: Query[Page]) -> HttpResponse:
    actor = _actor(request)
    person = selectors.person_get(actor=actor, identifier=person_id)
    qs = selectors.taggings_for_person(actor=actor, person=person, filter_text=_filter_text(params))
    base = _base(request)
    return _collection(
        request,
        path=f"people/{person_id}/taggings",
        relation="osdi:taggings",
        qs=qs,
        params=params,
        serialize=lambda rows: payloads.taggings_json(base, rows),
    )


@api.get("/people/{person_id}/attendances", operation_id="person_attendances")
def person_attendances(request: HttpRequest, person_id: str, params: Query[Page]) -> HttpResponse:
    actor = _actor(request)
    person = selectors.person_get(actor=actor, identifier=person_id)
    qs = selectors.attendances_for_person(
        actor=actor, person=person, filter_text=_filter_text(params)
    )
    base = _base(request)
    return _collection(
        request,
        path=f"people/{person_id}/attendances",
        relation="osdi:attendances",
        qs=qs,
        params=params,
        serialize=lambda rows: payloads.attendances_json(base, rows),
    )


# Tags and taggings ----------------------------------------------------------------------


@api.get("/tags", operation_id="tags_list")
def tags_list(request: HttpRequest, params: Query[Page]) -> HttpResponse:
    qs = selectors.tag_queryset(actor=_actor(request), filter_text=_filter_text(params))
    base = _base(request)
    return _collection(
        request,
        path="tags",
        relation="osdi:tags",
        qs=qs,
        params=params,
        serialize=lambda rows: payloads.tags_json(base, rows),
    )


@api.post("/tags", operation_id="tag_create")
def tag_create(request: HttpRequest, body: TagIn) -> HttpResponse:
    def run() -> _Answer:
        from leaven.people.services import tag_create as people_tag_create

        tag = people_tag_create(
            actor=_actor(request), owner_unit=_key(request).unit, name=_clean(body.name)
        )
        return _Answer(tag)

    return _idempotent(request, run)


@api.get("/tags/{tag_id}", operation_id="tag_get")
def tag_get(request: HttpRequest, tag_id: str) -> HttpResponse:
    tag = selectors.tag_get(actor=_actor(request), identifier=tag_id)
    return _ok(payloads.tags_json(_base(request), [tag])[0])


@api.get("/tags/{tag_id}/taggings", operation_id="tag_taggings")
def tag_taggings(request: HttpRequest, tag_id: str, params: Query[Page]) -> HttpResponse:
    actor = _actor(request)
    tag = selectors.tag_get(actor=actor, identifier=tag_id)
    qs = selectors.taggings_for_tag(actor=actor, tag=tag, filter_text=_filter_text(params))
    base = _base(request)
    return _collection(
        request,
        path=f"tags/{tag_id}/taggings",
        relation="osdi:taggings",
        qs=qs,
        params=params,
        serialize=lambda rows: payloads.taggings_json(base, rows),
    )


@api.post("/tags/{tag_id}/taggings", operation_id="tagging_create")
def tagging_create(
    request: HttpRequest, tag_id: str, body: LinkedIn, background_processing: bool = False
) -> HttpResponse:
    actor = _actor(request)
    tag = selectors.tag_get(actor=actor, identifier=tag_id)
    person_id = _linked_id(body.links, "osdi:person")
    if not person_id:
        raise HttpError(400, "Give the person as _links.osdi:person.href")

    def run() -> _Answer:
        person = selectors.person_get(actor=actor, identifier=person_id)
        tagging = services_osdi.tagging_create(actor=actor, tag=tag, person=person)
        return _Answer(tagging)

    return _idempotent(request, run)


@api.get("/tags/{tag_id}/taggings/{tagging_id}", operation_id="tagging_get")
def tagging_get(request: HttpRequest, tag_id: str, tagging_id: str) -> HttpResponse:
    actor = _actor(request)
    tag = selectors.tag_get(actor=actor, identifier=tag_id)
    tagging = selectors.tagging_get(actor=actor, tag=tag, identifier=tagging_id)
    return _ok(payloads.taggings_json(_base(request), [tagging])[0])


@api.delete("/tags/{tag_id}/taggings/{tagging_id}", operation_id="tagging_delete")
def tagging_delete(
    request: HttpRequest, tag_id: str, tagging_id: str, background_processing: bool = False
) -> HttpResponse:
    actor = _actor(request)
    tag = selectors.tag_get(actor=actor, identifier=tag_id)
    tagging = selectors.tagging_get(actor=actor, tag=tag, identifier=tagging_id)
    services_osdi.tagging_delete(actor=actor, tagging=tagging)
    return _ok({"notice": "This tagging was successfully deleted."})


# Events and attendances -----------------------------------------------------------------


@api.get("/events", operation_id="events_list")
def events_list(request: HttpRequest, params: Query[Page]) -> HttpResponse:
    qs = selectors.event_queryset(actor=_actor(request), filter_text=_filter_text(params))
    base, site = _base(request), _site(request)
    return _collection(
        request,
        path="events",
        relation="osdi:events",
        qs=qs,
        params=params,
        serialize=lambda rows: payloads.events_json(base, rows, site),
    )


@api.post("/events", operation_id="event_create")
def event_create(request: HttpRequest, body: EventIn) -> HttpResponse:
    def run() -> _Answer:
        event = services_osdi.event_create(
            actor=_actor(request), unit=_key(request).unit, data=_dump(body)
        )
        return _Answer(event)

    return _idempotent(request, run)


@api.get("/events/{event_id}", operation_id="event_get")
def event_get(request: HttpRequest, event_id: str) -> HttpResponse:
    event = selectors.event_get(actor=_actor(request), identifier=event_id)
    return _ok(payloads.events_json(_base(request), [event], _site(request))[0])


@api.get("/events/{event_id}/attendances", operation_id="event_attendances")
def event_attendances(request: HttpRequest, event_id: str, params: Query[Page]) -> HttpResponse:
    actor = _actor(request)
    event = selectors.event_get(actor=actor, identifier=event_id)
    qs = selectors.attendances_for_event(actor=actor, event=event, filter_text=_filter_text(params))
    base = _base(request)
    return _collection(
        request,
        path=f"events/{event_id}/attendances",
        relation="osdi:attendances",
        qs=qs,
        params=params,
        serialize=lambda rows: payloads.attendances_json(base, rows),
    )


@api.post("/events/{event_id}/attendances", operation_id="attendance_create")
def attendance_create(
    request: HttpRequest, event_id: str, body: AttendanceIn, background_processing: bool = False
) -> HttpResponse:
    actor = _actor(request)
    event = selectors.event_get(actor=actor, identifier=event_id)
    data = _dump(body)

    def run() -> _Answer:
        person = None
        linked = _linked_id(data.get("_links"), "osdi:person")
        if linked:
            person = selectors.person_get(actor=actor, identifier=linked)
        rsvp = services_osdi.attendance_record(
            actor=actor,
            event=event,
            person=person,
            person_data=data.get("person"),
            add_tags=data.get("add_tags"),
        )
        return _Answer(rsvp)

    return _idempotent(request, run)


@api.get("/events/{event_id}/attendances/{attendance_id}", operation_id="attendance_get")
def attendance_get(request: HttpRequest, event_id: str, attendance_id: str) -> HttpResponse:
    actor = _actor(request)
    event = selectors.event_get(actor=actor, identifier=event_id)
    rsvp = selectors.attendance_get(actor=actor, event=event, identifier=attendance_id)
    return _ok(payloads.attendances_json(_base(request), [rsvp])[0])


@api.put("/events/{event_id}/attendances/{attendance_id}", operation_id="attendance_update")
def attendance_update(
    request: HttpRequest, event_id: str, attendance_id: str, body: AttendanceUpdate
) -> HttpResponse:
    actor = _actor(request)
    event = selectors.event_get(actor=actor, identifier=event_id)
    rsvp = selectors.attendance_get(actor=actor, event=event, identifier=attendance_id)
    rsvp = services_osdi.attendance_update(actor=actor, rsvp=rsvp, data=_dump(body))
    return _ok(payloads.attendances_json(_base(request), [rsvp])[0])


# Messages -------------------------------------------------------------------------------


@api.get("/messages", operation_id="messages_list")
def messages_list(request: HttpRequest, params: Query[Page]) -> HttpResponse:
    qs = selectors.message_queryset(actor=_actor(request), filter_text=_filter_text(params))
    base = _base(request)
    return _collection(
        request,
        path="messages",
        relation="osdi:messages",
        qs=qs,
        params=params,
        serialize=lambda rows: payloads.messages_json(base, rows),
    )


@api.get("/messages/{message_id}", operation_id="message_get")
def message_get(request: HttpRequest, message_id: str) -> HttpResponse:
    broadcast = selectors.message_get(actor=_actor(request), identifier=message_id)
    return _ok(payloads.messages_json(_base(request), [broadcast])[0])


# Donations ------------------------------------------------------------------------------


@api.get("/donations", operation_id="donations_list")
def donations_list(request: HttpRequest, params: Query[Page]) -> HttpResponse:
    qs = selectors.donation_queryset(actor=_actor(request), filter_text=_filter_text(params))
    base = _base(request)
    return _collection(
        request,
        path="donations",
        relation="osdi:donations",
        qs=qs,
        params=params,
        serialize=lambda rows: payloads.donations_json(base, rows),
    )


@api.get("/donations/{donation_id}", operation_id="donation_get")
def donation_get(request: HttpRequest, donation_id: str) -> HttpResponse:
    payment = selectors.donation_get(actor=_actor(request), identifier=donation_id)
    return _ok(payloads.donations_json(_base(request), [payment])[0])


@api.get("/people/{person_id}/donations", operation_id="person_donations")
def person_donations(request: HttpRequest, person_id: str, params: Query[Page]) -> HttpResponse:
    actor = _actor(request)
    person = selectors.person_get(actor=actor, identifier=person_id)
    qs = selectors.donation_queryset(actor=actor, person=person, filter_text=_filter_text(params))
    base = _base(request)
    return _collection(
        request,
        path=f"people/{person_id}/donations",
        relation="osdi:donations",
        qs=qs,
        params=params,
        serialize=lambda rows: payloads.donations_json(base, rows),
    )


# Lists and items ------------------------------------------------------------------------


@api.get("/lists", operation_id="lists_list")
def lists_list(request: HttpRequest, params: Query[Page]) -> HttpResponse:
    qs = selectors.list_queryset(actor=_actor(request), filter_text=_filter_text(params))
    base = _base(request)
    return _collection(
        request,
        path="lists",
        relation="osdi:lists",
        qs=qs,
        params=params,
        serialize=lambda rows: payloads.lists_json(base, rows),
    )


@api.get("/lists/{list_id}", operation_id="list_get")
def list_get(request: HttpRequest, list_id: str) -> HttpResponse:
    segment = selectors.list_get(actor=_actor(request), identifier=list_id)
    return _ok(payloads.lists_json(_base(request), [segment])[0])


@api.get("/lists/{list_id}/items", operation_id="list_items")
def list_items(request: HttpRequest, list_id: str, params: Query[Page]) -> HttpResponse:
    actor = _actor(request)
    segment = selectors.list_get(actor=actor, identifier=list_id)
    if _filter_text(params):
        raise HttpError(400, "Invalid filter: items cannot be filtered")
    qs = selectors.list_people(actor=actor, segment=segment)
    base = _base(request)
    return _collection(
        request,
        path=f"lists/{list_id}/items",
        relation="osdi:items",
        qs=qs,
        params=params,
        serialize=lambda rows: payloads.items_json(base, segment, rows),
        remember_count=True,
    )


@api.get("/lists/{list_id}/items/{item_id}", operation_id="list_item_get")
def list_item_get(request: HttpRequest, list_id: str, item_id: str) -> HttpResponse:
    actor = _actor(request)
    segment = selectors.list_get(actor=actor, identifier=list_id)
    person = selectors.list_item_person(actor=actor, segment=segment, identifier=item_id)
    return _ok(payloads.items_json(_base(request), segment, [person])[0])


__all__ = ["RSVP", "Event", "Tag", "Tagging", "api"]
