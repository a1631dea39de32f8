"""The OData-style filter parser: precedence, quoting, dates and errors."""

from __future__ import annotations

import pytest
from django.db.models import Q

from leaven.api import odata

FIELDS = {
    "given_name": odata.text_field("given_name"),
    "modified_date": odata.date_field("modified_at"),
}


def test_and_binds_tighter_than_or():
    q = odata.parse("given_name eq 'a' or given_name eq 'b' and given_name eq 'c'", FIELDS)
    assert q == Q(given_name__iexact="a") | (Q(given_name__iexact="b") & Q(given_name__iexact="c"))


def test_parentheses_and_doubled_quotes():
    q = odata.parse("(given_name eq 'O''Brien' or given_name eq 'x') and given_name ne 'y'", FIELDS)
    assert q == (Q(given_name__iexact="O'Brien") | Q(given_name__iexact="x")) & ~Q(
        given_name__iexact="y"
    )


def test_keyword_glued_to_a_quote_is_read():
    """osdi joins conditions as `a eq 'x'and b eq 'y'`."""
    q = odata.parse("given_name eq 'x'and given_name eq 'y'", FIELDS)
    assert q == Q(given_name__iexact="x") & Q(given_name__iexact="y")


def test_date_only_gt_means_after_that_day():
    from datetime import UTC, datetime

    q = odata.parse("modified_date gt '2014-03-25'", FIELDS)
    assert q == Q(modified_at__gte=datetime(2014, 3, 26, tzinfo=UTC))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "given_name",
        "given_name eq 'a' and",
        "(given_name eq 'a'",
        "given_name eq 'a')",
        "given_name gt 'a'",
        "other eq 'a'",
        "modified_date eq '9999-12-31'",
        "modified_date eq 'tomorrow'",
        "given_name eq 'unterminated",
    ],
)
def test_errors(text):
    with pytest.raises(odata.FilterError):
        odata.parse(text, FIELDS)
