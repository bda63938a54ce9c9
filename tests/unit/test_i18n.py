"""Every text has both languages, and every code a service can return has a message."""

from __future__ import annotations

import inspect
import re

from backend.domain import validation
from backend.domain.statuses import ShipmentStatus
from backend.domain.tracking import NextStep, Reason
from portal.i18n import CATALOG, translate

AUTH_FAILURE_CODES = {"invalid_credentials", "throttled", "not_staff", "inactive"}


def test_every_entry_has_english_and_traditional_chinese():
    for key, entry in CATALOG.items():
        assert set(entry) == {"en", "zh-HK"}, key
        assert entry["en"].strip() and entry["zh-HK"].strip(), key


def test_placeholders_match_between_languages():
    for key, entry in CATALOG.items():
        assert set(re.findall(r"{(\w+)}", entry["en"])) == set(
            re.findall(r"{(\w+)}", entry["zh-HK"])
        ), key


def test_every_validation_code_has_a_message():
    codes = set(re.findall(r'return "(\w+)"', inspect.getsource(validation)))
    assert codes, "validation returns codes as string literals"
    assert codes <= set(CATALOG), codes - set(CATALOG)


def test_every_sign_in_failure_has_a_message():
    assert set(CATALOG) >= AUTH_FAILURE_CODES


def test_every_shipment_status_has_a_name():
    assert {f"status.{s.value}" for s in ShipmentStatus} <= set(CATALOG)


def test_translate_fills_values_and_falls_back_to_english():
    assert translate("throttled", "zh-HK", seconds=30) == "嘗試次數過多，請於 30 秒後再試。"
    assert translate("sign_in", "fr") == "Sign in"
    assert translate("sign_in", "") == "Sign in"
    assert translate("no-such-key", "en") == "no-such-key"


def test_every_reason_and_next_step_has_words():
    assert {f"reason.{r.value}" for r in Reason} <= set(CATALOG)
    assert {f"next.{n.value}" for n in NextStep} <= set(CATALOG)


def test_every_order_form_and_pricing_code_has_a_message():
    from backend.domain import order_form, pricing
    from backend.services import orders

    codes = set(re.findall(r'"([a-z_]+)"', inspect.getsource(order_form)))
    codes = {
        c
        for c in codes
        if c.endswith(("_invalid", "_required", "_too_high", "_too_heavy", "_not_served"))
    }
    codes |= {"required", "too_long", "invalid_characters", "too_many_parcels"}
    codes |= {f"phone_invalid_{c.lower()}" for c in order_form.COUNTRIES}
    codes |= set(orders._NOT_SERVED_FIELD)
    assert pricing.NotServed("x").code == "x"
    assert codes <= set(CATALOG), codes - set(CATALOG)


def test_every_checkout_and_refund_refusal_has_a_message():
    from backend.services import checkout, refunds

    sources = inspect.getsource(checkout) + inspect.getsource(refunds)
    codes = set(re.findall(r'CheckoutUnavailable\("(\w+)"\)', sources))
    codes |= set(re.findall(r'ValidationFailed\(\{"\w+": "(\w+)"\}\)', sources))
    assert {"provider_unavailable", "order_not_payable", "amount_over_refundable"} <= codes
    assert codes <= set(CATALOG), codes - set(CATALOG)
