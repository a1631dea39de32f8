"""Forms check shape only; the services enforce the rules."""

from __future__ import annotations

import time
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core import signing
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Method, PayWith, Status, Tier

STARTED_SALT = "leaven.membership.join-started"
# A person takes longer than this to fill in the join form; a script does not.
MIN_FILL_SECONDS = 3
MAX_FILL_SECONDS = 24 * 3600


def started_token(at: float | None = None) -> str:
    """A signed timestamp for the hidden field that times the join form."""
    return signing.dumps(int(at if at is not None else time.time()), salt=STARTED_SALT)


def _choice(form: forms.Form, name: str) -> forms.ChoiceField:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)  # noqa: S101 (declared below as one)
    return field


def parse_cents(value: str) -> int:
    """'25', '25.5' or '$1,025.50' as integer cents; ValidationError otherwise."""
    text = (value or "").strip().replace("$", "").replace(",", "").replace(" ", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise forms.ValidationError(_("Enter an amount such as 25 or 12.50.")) from None
    if amount != amount.quantize(Decimal("0.01")) or amount < 0:
        raise forms.ValidationError(_("Enter an amount such as 25 or 12.50."))
    return int(amount * 100)


class AmountField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 20)
        super().__init__(**kwargs)
        self.widget.attrs.update({"inputmode": "decimal", "autocomplete": "off"})

    def clean(self, value: Any) -> int | None:
        text = super().clean(value)
        if not text:
            return None
        return parse_cents(text)


def tier_label(tier: Tier) -> str:
    from .services import money

    suffix = {
        "monthly": _("a month"),
        "yearly": _("a year"),
        "one_time": _("once"),
    }[tier.interval]
    if tier.sliding_min_cents is not None:
        return str(
            _("%(name)s: from %(minimum)s %(interval)s")
            % {
                "name": tier.name,
                "minimum": money(tier.sliding_min_cents, tier.currency),
                "interval": suffix,
            }
        )
    return f"{tier.name}: {money(tier.amount_cents, tier.currency)} {suffix}"


class JoinForm(forms.Form):
    given_name = forms.CharField(label=_("First name"), max_length=100)
    family_name = forms.CharField(label=_("Last name"), max_length=100, required=False)
    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )
    email = forms.CharField(
        label=_("Email"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"type": "email", "autocomplete": "email"}),
    )
    language = forms.ChoiceField(
        label=_("Language for our messages"),
        choices=[("es", "Español"), ("en", "English")],
        widget=forms.RadioSelect,
    )
    tier = forms.TypedChoiceField(label=_("Membership level"), coerce=int, widget=forms.RadioSelect)
    amount = AmountField(
        label=_("Your amount (sliding scale)"),
        required=False,
        help_text=_("Pay what you can, from the minimum of the level you chose."),
    )
    pay_with = forms.ChoiceField(label=_("How will you pay?"), widget=forms.RadioSelect)
    sms_consent = forms.BooleanField(
        label=_("Yes, send me text messages about meetings and actions. Reply STOP to stop."),
        required=False,
    )
    email_consent = forms.BooleanField(
        label=_("Yes, send me news by email."),
        required=False,
    )
    # Spam checks: a field people never see, and when the form was opened.
    website = forms.CharField(
        label=_("Leave this empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    started = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, tiers: list[Tier], card: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choice(self, "tier").choices = [(t.pk, tier_label(t)) for t in tiers]
        if len(tiers) == 1:
            self.fields["tier"].initial = tiers[0].pk
        _choice(self, "pay_with").choices = [
            choice for choice in PayWith.choices if card or choice[0] != PayWith.CARD
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("phone") or "").strip() and not (data.get("email") or "").strip():
            self.add_error("phone", _("Give a mobile phone or an email so we can reach you."))
        return data


class SelfServiceTierForm(forms.Form):
    tier = forms.TypedChoiceField(label=_("Membership level"), coerce=int, widget=forms.RadioSelect)
    amount = AmountField(label=_("Your amount (sliding scale)"), required=False)
    language = forms.ChoiceField(
        label=_("Language for our messages"),
        choices=[("es", "Español"), ("en", "English")],
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, tiers: list[Tier], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choice(self, "tier").choices = [(t.pk, tier_label(t)) for t in tiers]


class SelfServiceContactForm(forms.Form):
    phone = forms.CharField(
        label=_("New mobile phone"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    email = forms.CharField(
        label=_("New email"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"type": "email", "autocomplete": "email"}),
    )
    sms_consent = forms.BooleanField(
        label=_("Yes, send me text messages about meetings and actions. Reply STOP to stop."),
        required=False,
    )
    email_consent = forms.BooleanField(label=_("Yes, send me news by email."), required=False)


class CashPaymentForm(forms.Form):
    amount = AmountField(label=_("Amount"))
    paid_on = forms.DateField(
        label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}), initial=timezone.localdate
    )
    method = forms.ChoiceField(label=_("Method"), choices=Method.choices, initial=Method.CASH)
    receipt_number = forms.CharField(
        label=_("Receipt number"),
        max_length=40,
        required=False,
        help_text=_("Leave empty and Leaven makes one up."),
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args: Any, methods: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choice(self, "method").choices = [c for c in Method.choices if c[0] in methods]
        if len(methods) == 1:
            self.fields["method"].widget = forms.HiddenInput()


class StatusForm(forms.Form):
    status = forms.ChoiceField(
        label=_("New status"),
        choices=[c for c in Status.choices if c[0] != Status.WAIVED],
    )
    reason = forms.CharField(label=_("Reason"), max_length=200)


class WaiverForm(forms.Form):
    review_on = forms.DateField(
        label=_("Review the waiver on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    reason = forms.CharField(label=_("Note"), max_length=200, required=False)


class ReverseForm(forms.Form):
    reason = forms.CharField(label=_("Why is this payment reversed?"), max_length=200)


class MemberFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *Status.choices]
    )
    tier = forms.TypedChoiceField(label=_("Tier"), required=False, coerce=int, empty_value=None)
    unit = forms.TypedChoiceField(label=_("Unit"), required=False, coerce=int, empty_value=None)

    def __init__(
        self, *args: Any, tiers: list[tuple[int, str]], units: list[tuple[int, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        _choice(self, "tier").choices = [("", _("Any tier")), *tiers]
        _choice(self, "unit").choices = [("", _("All my units")), *units]


class TierForm(forms.Form):
    name_en = forms.CharField(label=_("Name in English"), max_length=100)
    name_es = forms.CharField(label=_("Name in Spanish"), max_length=100)
    amount = AmountField(label=_("Dues"))
    interval = forms.ChoiceField(
        label=_("Every"),
        choices=[("monthly", _("Month")), ("yearly", _("Year")), ("one_time", _("Once"))],
    )
    sliding_min = AmountField(
        label=_("Sliding-scale minimum"),
        required=False,
        help_text=_("Leave empty for a fixed amount."),
    )
    benefits_en = forms.CharField(
        label=_("Benefits in English"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    benefits_es = forms.CharField(
        label=_("Benefits in Spanish"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class GoalForm(forms.Form):
    target_count = forms.IntegerField(label=_("Members to reach"), min_value=1, max_value=10**7)
    target_date = forms.DateField(label=_("By"), widget=forms.DateInput(attrs={"type": "date"}))
