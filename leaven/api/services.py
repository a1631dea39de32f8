"""Writes for the API: keys, identifiers, replayable POSTs and webhooks. Each checks the
actor's rights and leaves an audit event with ids only."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import secrets
import socket
import ssl
import urllib.parse
import uuid
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leaven.api.models import (
    ApiIdentifier,
    ApiKey,
    IdempotentRequest,
    PeopleReadCount,
    Webhook,
    WebhookDelivery,
)
from leaven.core import access, permissions
from leaven.core.audit import audit_record
from leaven.core.models import OrgUnit, Role

TOKEN_PREFIX = "lvn_"  # noqa: S105 - a public prefix, not a secret
# A webhook is switched off after this many failed deliveries in a row.
WEBHOOK_MAX_FAILURES = 10
# Retries of one delivery, with the wait before each: 1, 2, 4, ... minutes.
WEBHOOK_MAX_ATTEMPTS = 8


@dataclass
class KeyActor:
    """Who acts for an API key: no account, an admin role on the key's unit only. Made
    for one request: `scope` remembers the units in scope per permission for that request,
    and `whole_tree` says the key's unit is the only root, so its scope is every unit."""

    key_id: int
    granted_roles: list[tuple[str, str, int]]
    is_authenticated: bool = False
    is_active: bool = True
    pk: None = None
    whole_tree: bool = False
    scope: dict[str, frozenset[int]] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"apikey:{self.key_id}"


def key_actor(key: ApiKey) -> KeyActor:
    unit = key.unit
    whole_tree = (
        unit.parent_id is None
        and not OrgUnit.objects.filter(parent__isnull=True).exclude(pk=unit.pk).exists()
    )
    return KeyActor(key.pk, [(Role.ADMIN.value, unit.path, unit.pk)], whole_tree=whole_tree)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _require_manage(actor: Any, unit: OrgUnit, as_operator: bool) -> None:
    if not as_operator and not access.can(actor, permissions.API_MANAGE, unit):
        raise ValidationError(_("You cannot manage API keys for this unit."))


@transaction.atomic
def apikey_create(
    *, actor: Any, unit: OrgUnit, name: str, as_operator: bool = False
) -> tuple[ApiKey, str]:
    """A new key for `unit`; returns the key and its token, which is never shown again."""
    _require_manage(actor, unit, as_operator)
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the key a name.")})
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        unit=unit,
        name=name[:100],
        prefix=token[:10],
        token_hash=token_hash(token),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    audit_record(actor=actor, verb="apikey.created", obj=key, unit=unit)
    return key, token


@transaction.atomic
def apikey_revoke(*, actor: Any, key: ApiKey, as_operator: bool = False) -> ApiKey:
    _require_manage(actor, key.unit, as_operator)
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit_record(actor=actor, verb="apikey.revoked", obj=key, unit=key.unit)
    return key


def apikey_touch(*, key: ApiKey) -> None:
    """Note when a key was last used, at most once a minute."""
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now


# Identifiers ----------------------------------------------------------------------------


def identifiers_ensure(model: type[models.Model], ids: list[int]) -> dict[int, ApiIdentifier]:
    """The Action Network identifier of each record, created the first time it is exposed."""
    if not ids:
        return {}
    ct = ContentType.objects.get_for_model(model)
    found = {
        row.object_id: row
        for row in ApiIdentifier.objects.filter(content_type=ct, object_id__in=ids)
    }
    missing = [pk for pk in ids if pk not in found]
    if missing:
        ApiIdentifier.objects.bulk_create(
            [ApiIdentifier(content_type=ct, object_id=pk, uuid=uuid.uuid4()) for pk in missing],
            ignore_conflicts=True,
        )
        for row in ApiIdentifier.objects.filter(content_type=ct, object_id__in=missing):
            found[row.object_id] = row
    return found


def identifier_add_foreign(*, model: type[models.Model], pk: int, identifiers: list[str]) -> None:
    """Keep identifiers a client supplied (`other-system:123`); ours are not stored twice."""
    extra = [
        str(value)[:200]
        for value in identifiers
        if isinstance(value, str) and ":" in value and not value.startswith("action_network:")
    ]
    if not extra:
        return
    row = identifiers_ensure(model, [pk])[pk]
    merged = list(dict.fromkeys([*row.foreign, *extra]))[:20]
    if merged != row.foreign:
        ApiIdentifier.objects.filter(pk=row.pk).update(foreign=merged)
        row.foreign = merged


# Idempotency ----------------------------------------------------------------------------

# A stored answer is replayed for a day, then forgotten.
IDEMPOTENCY_TTL = timedelta(hours=24)
# A claim still "in progress" after this long belongs to a request that died without
# releasing it (its writes rolled back with it): a repeat may take it over.
IDEMPOTENCY_STALE = timedelta(minutes=10)


@dataclass(frozen=True)
class IdempotencyClaim:
    """What to do with a POST that carries an Idempotency-Key: `run` it (this request now
    holds the claim), `replay` the stored answer, refuse it as a `conflict` (the key was used
    for another request) or as `running` (the first request with the key has not finished)."""

    outcome: str
    record: IdempotentRequest | None = None


def request_fingerprint(body: bytes, query: str = "") -> str:
    """A hash of a request's body and query string. The body counts by its JSON with
    sorted keys when it is JSON (so the same object sent again matches whatever its
    spacing), else by its bytes; the query string by its parameters in sorted order (so
    `?a=1&b=2` is `?b=2&a=1`). Without a query string this is the hash of the body alone."""
    try:
        canonical = json.dumps(
            json.loads(body or b"null"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
    except (ValueError, UnicodeDecodeError):
        canonical = body
    digest = hashlib.sha256(canonical).hexdigest()
    pairs = sorted(urllib.parse.parse_qsl(query, keep_blank_values=True))
    if not pairs:
        return digest
    return hashlib.sha256(f"{urllib.parse.urlencode(pairs)}\n{digest}".encode()).hexdigest()


def idempotent_claim(
    *,
    key: ApiKey,
    idempotency_key: str,
    method: str,
    path: str,
    body_hash: str,
    now: Any = None,
) -> IdempotencyClaim:
    """Claim (key, idempotency key) for one request before it runs: the claim is a unique
    row inserted and committed in its own transaction, so of two requests arriving together
    exactly one runs. Answers older than IDEMPOTENCY_TTL are deleted first."""
    now = now or timezone.now()
    idempotency_key = idempotency_key[:255]
    method, path = method.upper()[:10], path[:255]
    IdempotentRequest.objects.filter(created_at__lt=now - IDEMPOTENCY_TTL).delete()
    for _attempt in range(3):
        try:
            with transaction.atomic():
                record = IdempotentRequest.objects.create(
                    key=key,
                    idempotency_key=idempotency_key,
                    method=method,
                    path=path,
                    body_hash=body_hash,
                    state=IdempotentRequest.State.RUNNING,
                    created_at=now,
                )
            return IdempotencyClaim("run", record)
        except IntegrityError:
            pass
        existing = IdempotentRequest.objects.filter(
            key=key, idempotency_key=idempotency_key
        ).first()
        if existing is None:
            continue  # released between our insert and our read: try again
        if (existing.method, existing.path, existing.body_hash) != (method, path, body_hash):
            return IdempotencyClaim("conflict", existing)
        if existing.state == IdempotentRequest.State.DONE:
            return IdempotencyClaim("replay", existing)
        if existing.created_at < now - IDEMPOTENCY_STALE:
            taken = IdempotentRequest.objects.filter(
                pk=existing.pk,
                state=IdempotentRequest.State.RUNNING,
                created_at=existing.created_at,
            ).update(created_at=now)
            if taken:
                existing.created_at = now
                return IdempotencyClaim("run", existing)
        return IdempotencyClaim("running", existing)
    return IdempotencyClaim("running")


def idempotent_complete(
    *, record: IdempotentRequest, status: int, object_type: str, object_id: int
) -> bool:
    """Keep what a claimed request answered, to replay on repeats: the kind and id of the
    record, not its contents (a replay renders it afresh for the key). Call it inside the
    transaction of the request's writes, so that the writes and the finished claim commit
    together or not at all. False when the claim is no longer this request's (a repeat took
    it over as stale): the caller must then roll its writes back."""
    return bool(
        IdempotentRequest.objects.filter(
            pk=record.pk, state=IdempotentRequest.State.RUNNING, created_at=record.created_at
        ).update(
            state=IdempotentRequest.State.DONE,
            status=status,
            object_type=object_type[:20],
            object_id=object_id,
        )
    )


def idempotent_release(*, record: IdempotentRequest) -> None:
    """Give up a claim whose request failed, so that a retry can run (unless a repeat has
    taken the claim over since: it is then that request's)."""
    IdempotentRequest.objects.filter(
        pk=record.pk, state=IdempotentRequest.State.RUNNING, created_at=record.created_at
    ).delete()


# The daily cap on people read ----------------------------------------------------------


def people_read_allow(*, key: ApiKey, count: int, limit: int, now: Any = None) -> bool:
    """Count `count` more person records read through `key` today (the calendar day in
    UTC) if the day's total stays within `limit`; otherwise count nothing and answer False.
    One conditional UPDATE, so requests racing each other cannot pass the cap together."""
    if count <= 0:
        return True
    if count > limit:
        return False
    day = (now or timezone.now()).astimezone(UTC).date()
    for _attempt in range(3):
        counted = PeopleReadCount.objects.filter(
            key=key, day=day, people__lte=limit - count
        ).update(people=models.F("people") + count)
        if counted:
            return True
        if PeopleReadCount.objects.filter(key=key, day=day).exists():
            return False
        try:
            with transaction.atomic():
                PeopleReadCount.objects.create(key=key, day=day, people=count)
        except IntegrityError:
            continue  # another request made today's row first: count against it
        PeopleReadCount.objects.filter(key=key, day__lt=day).delete()
        return True
    return False


# Webhooks -------------------------------------------------------------------------------


def _allow_local() -> bool:
    return bool(getattr(settings, "LEAVEN_WEBHOOKS_ALLOW_HTTP_LOCAL", False))


def _private_address(host: str) -> bool:
    """Whether a host is, or is written as, an address inside a private network: loopback,
    link-local (cloud metadata), private ranges, or a name for this machine."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return True
    try:
        return not ipaddress.ip_address(host).is_global
    except ValueError:
        return False


def _clean_url(url: str) -> str:
    url = url.strip()
    parts = urllib.parse.urlsplit(url)
    if _allow_local() and parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost"):
        return url
    if parts.scheme != "https" or not parts.hostname:
        raise ValidationError({"url": _("Use an https:// address.")})
    if _private_address(parts.hostname):
        raise ValidationError({"url": _("Use a public address, not one inside a private network.")})
    return url


def _vetted_addresses(host: str, port: int, *, local: bool = False) -> list[str]:
    """The addresses a delivery may connect to: the host name is resolved once, and every
    address it resolves to must be public (unless `local`, the allowed local receiver).
    The connection then goes to one of these addresses itself, never to the name, so an
    answer that changes between the check and the connection (DNS rebinding) cannot move
    the post."""
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise PermissionError("webhook host does not resolve") from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses or (not local and any(_private_address(a) for a in addresses)):
        raise PermissionError("webhook host does not resolve to a public address")
    return addresses


def _connect_first(addresses: list[str], port: int, timeout: float | None) -> socket.socket:
    """A connection to the first of the vetted addresses that answers, in the resolver's
    order (a receiver whose IPv6 address is unreachable is still reached over IPv4)."""
    failure: OSError | None = None
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout)
        except OSError as exc:
            failure = exc
    raise failure or OSError("no address to connect to")


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to a vetted address; the Host header still names the host."""

    def __init__(self, host: str, port: int, *, addresses: list[str], timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.addresses = addresses

    def connect(self) -> None:
        self.sock = _connect_first(self.addresses, self.port, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a vetted address: the certificate is verified, and SNI sent, for the host
    name (not the address), and the Host header names the host."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        addresses: list[str],
        timeout: float,
        context: ssl.SSLContext | None = None,
    ) -> None:
        self.tls = context or ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self.tls)
        self.addresses = addresses

    def connect(self) -> None:
        raw = _connect_first(self.addresses, self.port, self.timeout)
        try:
            self.sock = self.tls.wrap_socket(raw, server_hostname=self.host)
        except BaseException:
            raw.close()
            raise


@transaction.atomic
def webhook_create(
    *,
    actor: Any,
    unit: OrgUnit,
    url: str,
    topics: list[str],
    api_base: str = "",
    as_operator: bool = False,
) -> Webhook:
    _require_manage(actor, unit, as_operator)
    url = _clean_url(url)
    topics = [topic for topic in dict.fromkeys(topics) if topic in Webhook.Topic.values]
    if not topics:
        raise ValidationError({"topics": _("Choose at least one event.")})
    webhook = Webhook.objects.create(
        unit=unit,
        url=url,
        topics=topics,
        secret=secrets.token_hex(32),
        api_base=api_base[:300],
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    audit_record(
        actor=actor, verb="webhook.created", obj=webhook, unit=unit, detail={"topics": topics}
    )
    return webhook


@transaction.atomic
def webhook_set_active(*, actor: Any, webhook: Webhook, active: bool) -> Webhook:
    _require_manage(actor, webhook.unit, False)
    if webhook.is_active != active:
        webhook.is_active = active
        webhook.consecutive_failures = 0
        webhook.disabled_at = None if active else timezone.now()
        webhook.save(update_fields=["is_active", "consecutive_failures", "disabled_at"])
        audit_record(
            actor=actor,
            verb="webhook.enabled" if active else "webhook.disabled",
            obj=webhook,
            unit=webhook.unit,
        )
    return webhook


def webhook_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhooks_for(unit: OrgUnit, topic: str) -> list[Webhook]:
    """Active webhooks of this unit and of every unit above it that want `topic`."""
    ids = [int(part) for part in unit.path.strip("/").split("/") if part]
    return [
        hook
        for hook in Webhook.objects.filter(unit_id__in=ids, is_active=True)
        if topic in hook.topics
    ]


def deliveries_create(
    *, unit: OrgUnit, topic: str, event_id: str, object_type: str, object_id: int
) -> list[int]:
    """A pending delivery of one event to each webhook that wants it; an event id already
    recorded for a webhook is not recorded again."""
    created: list[int] = []
    for hook in webhooks_for(unit, topic):
        delivery, made = WebhookDelivery.objects.get_or_create(
            webhook=hook,
            event_id=event_id[:80],
            defaults={"topic": topic, "object_type": object_type, "object_id": object_id},
        )
        if made:
            created.append(delivery.pk)
    return created


def _backoff(attempts: int) -> timedelta:
    return timedelta(minutes=2 ** max(0, attempts - 1))


def delivery_send(*, delivery_id: int, post: Any = None) -> str:
    """Send one pending delivery now; returns its state. A delivered or failed one is left
    alone, so running it twice sends once. `post(url, body, headers)` returns a status code
    (the default uses urllib)."""
    from leaven.api.payloads import webhook_payload

    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update()
            .select_related("webhook__unit")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.state != WebhookDelivery.State.PENDING:
            return delivery.state if delivery else "missing"
        hook = delivery.webhook
        if not hook.is_active:
            return delivery.state
        payload = webhook_payload(delivery)
        body = json.dumps(payload, ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Leaven-Signature": webhook_signature(hook.secret, body),
            "X-Leaven-Event-Id": delivery.event_id,
            "User-Agent": "Leaven-Webhooks/1",
        }
        status, error = None, ""
        try:
            status = (post or _post)(hook.url, body, headers)
        except Exception as exc:  # noqa: BLE001 - any transport failure is a failed attempt
            error = type(exc).__name__
        delivery.attempts += 1
        delivery.last_status = status
        delivery.last_error = error[:200]
        if status is not None and 200 <= status < 300:
            delivery.state = WebhookDelivery.State.DELIVERED
            delivery.delivered_at = timezone.now()
            hook.consecutive_failures = 0
        else:
            hook.consecutive_failures += 1
            if delivery.attempts >= WEBHOOK_MAX_ATTEMPTS:
                delivery.state = WebhookDelivery.State.FAILED
            else:
                delivery.next_attempt_at = timezone.now() + _backoff(delivery.attempts)
            if hook.consecutive_failures >= WEBHOOK_MAX_FAILURES:
                hook.is_active = False
                hook.disabled_at = timezone.now()
                audit_record(actor=None, verb="webhook.auto_disabled", obj=hook, unit=hook.unit)
        delivery.save()
        hook.save(update_fields=["consecutive_failures", "is_active", "disabled_at"])
        return delivery.state


# Seconds to wait for a receiver to connect and answer.
WEBHOOK_TIMEOUT = 10.0


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST once, following no redirect (a 3xx is an answer, not an instruction to post
    elsewhere), and only to a host that resolves to public addresses now (the name may have
    changed since the webhook was saved); the connection goes to the address checked."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    https = parts.scheme == "https"
    local = _allow_local() and parts.scheme == "http" and host in ("127.0.0.1", "localhost")
    if not host or not (https or local):
        raise PermissionError("webhook address is not https")
    port = parts.port or (443 if https else 80)
    addresses = _vetted_addresses(host, port, local=local)
    connection: http.client.HTTPConnection
    if https:
        connection = _PinnedHTTPSConnection(
            host, port, addresses=addresses, timeout=WEBHOOK_TIMEOUT
        )
    else:
        connection = _PinnedHTTPConnection(host, port, addresses=addresses, timeout=WEBHOOK_TIMEOUT)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", target, body=body, headers=headers)
        return int(connection.getresponse().status)
    finally:
        connection.close()


def deliveries_due(*, now: Any = None, limit: int = 200) -> list[int]:
    now = now or timezone.now()
    return list(
        WebhookDelivery.objects.filter(
            state=WebhookDelivery.State.PENDING, next_attempt_at__lte=now, webhook__is_active=True
        )
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
