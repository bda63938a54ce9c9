"""Which adapter speaks for which payment provider; the one place that lists them.

Adapters load on first use, so a process that never pays with Adyen never imports its SDK.
"""

from __future__ import annotations

import importlib
from functools import cache

from backend.integrations.payments.base import PaymentAdapter

# slug -> "module:Class"; the order is the order customers see at checkout.
_ADAPTERS = {
    "stripe": "backend.integrations.payments.stripe.adapter:StripeAdapter",
    "adyen": "backend.integrations.payments.adyen.adapter:AdyenAdapter",
    "checkout": "backend.integrations.payments.checkout.adapter:CheckoutAdapter",
    "paypal": "backend.integrations.payments.paypal.adapter:PayPalAdapter",
    "wechatpay": "backend.integrations.payments.wechatpay.adapter:WeChatPayAdapter",
    "alipay": "backend.integrations.payments.alipay.adapter:AlipayAdapter",
}
PROVIDERS = tuple(_ADAPTERS)


@cache
def get_adapter(slug: str) -> PaymentAdapter:
    """The adapter for a provider slug such as "adyen"; KeyError for a slug we do not know."""
    try:
        module_name, class_name = _ADAPTERS[slug].split(":")
    except KeyError:
        raise KeyError(f"no payment adapter for {slug!r} (known: {', '.join(PROVIDERS)})") from None
    return getattr(importlib.import_module(module_name), class_name)()
