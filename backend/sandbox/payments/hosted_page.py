"""The sandbox providers' hosted payment pages: one plain HTML form, styled per provider.

Each provider fills in who is paid, how much and which buttons there are; pressing one
POSTs `action=<value>` (and `method=<choice>` where there is a choice) back to the
same URL, where the provider's module decides what happens. No card data is asked for:
this is a stand-in, and our server never sees card data anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from starlette.responses import HTMLResponse


@dataclass(frozen=True)
class Action:
    value: str  # posted as action=<value>
    label: str
    primary: bool = False


def render(
    *,
    provider: str,
    colour: str,
    merchant: str,
    description: str,
    amount: str,
    actions: list[Action],
    methods: list[tuple[str, str]] | None = None,  # (value, label) radio choices
    notice: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    method_html = ""
    if methods:
        choices = "".join(
            f'<label class="method"><input type="radio" name="method" value="{escape(v)}"'
            f'{" checked" if i == 0 else ""} data-testid="method-{escape(v)}"> {escape(label)}</label>'
            for i, (v, label) in enumerate(methods)
        )
        method_html = f"<fieldset><legend>Pay with</legend>{choices}</fieldset>"
    buttons = "".join(
        f'<button type="submit" name="action" value="{escape(a.value)}"'
        f' class="{"primary" if a.primary else "secondary"}"'
        f' data-testid="psp-{escape(a.value)}">{escape(a.label)}</button>'
        for a in actions
    )
    notice_html = f'<p class="notice" role="status">{escape(notice)}</p>' if notice else ""
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(provider)} · pay {escape(merchant)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 0; background: #f4f5f7; color: #1c2024; }}
header {{ background: {escape(colour)}; color: #fff; padding: 16px 24px; font-weight: 700; }}
main {{ max-width: 420px; margin: 32px auto; background: #fff; border-radius: 12px;
        padding: 24px; box-shadow: 0 1px 4px rgba(0,0,0,.12); }}
.amount {{ font-size: 2rem; font-weight: 700; margin: 8px 0 16px; }}
.sandbox {{ font-size: .8rem; color: #60646c; }}
fieldset {{ border: 1px solid #d9d9e0; border-radius: 8px; margin: 0 0 16px; }}
.method {{ display: block; padding: 6px 0; }}
button {{ display: block; width: 100%; padding: 12px; margin: 8px 0; border-radius: 8px;
          font-size: 1rem; cursor: pointer; border: 1px solid {escape(colour)}; }}
button.primary {{ background: {escape(colour)}; color: #fff; }}
button.secondary {{ background: #fff; color: {escape(colour)}; }}
.notice {{ background: #fff4d5; padding: 8px 12px; border-radius: 6px; }}
</style></head>
<body><header>{escape(provider)}</header>
<main>
<p>Pay <strong data-testid="psp-merchant">{escape(merchant)}</strong></p>
<p>{escape(description)}</p>
<p class="amount" data-testid="psp-amount">{escape(amount)}</p>
{notice_html}
<form method="post">{method_html}{buttons}</form>
<p class="sandbox">Sandbox: no money moves. This page stands in for {escape(provider)}'s own.</p>
</main></body></html>"""
    return HTMLResponse(page, status_code=status_code)


def money_text(amount_minor: int, currency: str) -> str:
    """1234, "HKD" -> "HKD 12.34" (every currency we bill in has two decimals but JPY, KRW, TWD)."""
    if currency.upper() in {"JPY", "KRW", "TWD"}:
        return f"{currency.upper()} {amount_minor:,}"
    return f"{currency.upper()} {amount_minor / 100:,.2f}"
