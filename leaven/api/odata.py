"""Action Network's OData-style `filter`: `field op value` joined by `and` / `or`, with
parentheses; ops eq ne gt ge lt le; strings in single quotes. Turned into a Q for one
collection's fields; anything else is a FilterError (a 400)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Q
from django.utils.dateparse import parse_datetime

# Parentheses nest this deep at most: a deeper filter is refused (400), not a crash.
MAX_DEPTH = 20
OPS = {"eq", "ne", "gt", "ge", "lt", "le"}
_TOKEN = re.compile(r"\s*(\(|\)|'(?:[^']|'')*'|[^\s()']+)")

FieldFilter = Callable[[str, str], Q]


class FilterError(ValueError):
    pass


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise FilterError("Unreadable filter")
        token = match.group(1)
        # "a eq 'x'and b eq 'y'": a keyword glued to a quoted string.
        if not token.startswith("'") and token.lower().startswith(("and'", "or'")):
            raise FilterError("Unreadable filter")
        tokens.append(token)
        pos = match.end()
    return tokens


def parse(text: str, fields: dict[str, FieldFilter]) -> Q:
    tokens = _tokens(text)
    if not tokens:
        raise FilterError("Empty filter")
    position = 0
    depth = 0

    def peek() -> str | None:
        return tokens[position] if position < len(tokens) else None

    def take() -> str:
        nonlocal position
        if position >= len(tokens):
            raise FilterError("The filter ends too soon")
        token = tokens[position]  # noqa: S105 - a filter token, not a secret
        position += 1
        return token

    def comparison() -> Q:
        nonlocal depth
        token = take()
        if token == "(":  # noqa: S105 - a parenthesis, not a secret
            depth += 1
            if depth > MAX_DEPTH:
                raise FilterError("Too many nested parentheses")
            inner = disjunction()
            if take() != ")":
                raise FilterError("Unbalanced parentheses")
            depth -= 1
            return inner
        name = token.lower()
        if name not in fields:
            raise FilterError(f"Cannot filter on {token[:40]}")
        op = take().lower()
        if op not in OPS:
            raise FilterError(f"Unknown operator {op[:10]}")
        raw = take()
        if raw in ("(", ")"):
            raise FilterError("A value is missing")
        value = raw[1:-1].replace("''", "'") if raw.startswith("'") else raw
        try:
            return fields[name](op, value)
        except FilterError:
            raise
        except (ValueError, OverflowError) as exc:
            raise FilterError("A value is out of range") from exc

    def conjunction() -> Q:
        result = comparison()
        while (peek() or "").lower() == "and":
            take()
            result &= comparison()
        return result

    def disjunction() -> Q:
        result = conjunction()
        while (peek() or "").lower() == "or":
            take()
            result |= conjunction()
        return result

    query = disjunction()
    if position != len(tokens):
        raise FilterError("Unexpected text at the end of the filter")
    return query


def _parse_when(value: str) -> tuple[datetime, bool]:
    """(moment, whether only a date was given)."""
    value = value.strip()
    try:
        day = date.fromisoformat(value)
        return datetime.combine(day, time.min, tzinfo=UTC), True
    except ValueError:
        pass
    try:
        moment = parse_datetime(value.replace(" ", "T"))
    except ValueError:
        moment = None
    if moment is None:
        raise FilterError("Use a date such as '2014-03-25' or '2014-03-25T14:00:00Z'")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment, False


def date_field(column: str) -> FieldFilter:
    def build(op: str, value: str) -> Q:
        moment, whole_day = _parse_when(value)
        if whole_day and op in ("eq", "ne"):
            day = Q(**{f"{column}__gte": moment, f"{column}__lt": moment + timedelta(days=1)})
            return day if op == "eq" else ~day
        if whole_day and op == "gt":
            return Q(**{f"{column}__gte": moment + timedelta(days=1)})
        if whole_day and op == "le":
            return Q(**{f"{column}__lt": moment + timedelta(days=1)})
        lookup = {"eq": "exact", "gt": "gt", "ge": "gte", "lt": "lt", "le": "lte"}
        if op == "ne":
            return ~Q(**{column: moment})
        return Q(**{f"{column}__{lookup[op]}": moment})

    return build


def text_field(column: str) -> FieldFilter:
    def build(op: str, value: str) -> Q:
        if op == "eq":
            return Q(**{f"{column}__iexact": value})
        if op == "ne":
            return ~Q(**{f"{column}__iexact": value})
        raise FilterError("Names can be filtered with eq and ne only")

    return build


def exact_field(make: Callable[[str], Q]) -> FieldFilter:
    def build(op: str, value: str) -> Q:
        if op == "eq":
            return make(value)
        if op == "ne":
            return ~make(value)
        raise FilterError("This field can be filtered with eq and ne only")

    return build
