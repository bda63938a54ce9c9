"""English and Traditional Chinese text for every page: `t(key)` in components, `translate` in states."""

from __future__ import annotations

import re

import reflex as rx

from portal.catalog.orders import ORDER_TEXT
from portal.catalog.staff_payments import STAFF_PAYMENT_TEXT
from portal.state.base import SUPPORTED_LOCALES, AppState

LOCALE_LABELS = {"en": "English", "zh-HK": "繁體中文"}

CATALOG: dict[str, dict[str, str]] = {
    # Shell
    "skip_to_content": {"en": "Skip to content", "zh-HK": "跳至內容"},
    "language": {"en": "Language", "zh-HK": "語言"},
    "home": {"en": "Home", "zh-HK": "主頁"},
    "sign_in": {"en": "Sign in", "zh-HK": "登入"},
    "sign_up": {"en": "Create account", "zh-HK": "建立帳戶"},
    "sign_out": {"en": "Sign out", "zh-HK": "登出"},
    "signed_in_as": {"en": "Signed in as", "zh-HK": "已登入："},
    "brand_switch": {"en": "Service", "zh-HK": "服務"},
    "footer_note": {
        "en": "Parcel delivery you can follow, pay for and earn from.",
        "zh-HK": "寄件、付款、積分，一站跟進。",
    },
    # Customer home
    "hero_cta_member": {
        "en": "Create an account to send parcels, see your shipments and earn points.",
        "zh-HK": "建立帳戶即可寄件、查看您的貨件並賺取積分。",
    },
    "welcome_back": {"en": "Welcome back", "zh-HK": "歡迎回來"},
    "your_points": {"en": "Your points", "zh-HK": "您的積分"},
    "no_points": {"en": "You have no points yet.", "zh-HK": "您暫未有積分。"},
    "points": {"en": "points", "zh-HK": "分"},
    "pending_points": {"en": "pending until delivery", "zh-HK": "待送達後入帳"},
    "tier": {"en": "Tier", "zh-HK": "等級"},
    "your_shipments": {"en": "Your recent shipments", "zh-HK": "您最近的貨件"},
    "no_shipments": {"en": "No shipments yet.", "zh-HK": "暫無貨件。"},
    "tracking_number": {"en": "Tracking number", "zh-HK": "追蹤編號"},
    "status": {"en": "Status", "zh-HK": "狀態"},
    "direction": {"en": "Direction", "zh-HK": "方向"},
    "destination": {"en": "Destination", "zh-HK": "目的地"},
    "created": {"en": "Created", "zh-HK": "建立日期"},
    "service": {"en": "Service", "zh-HK": "服務"},
    "sent": {"en": "Sent", "zh-HK": "寄出"},
    "received": {"en": "Received", "zh-HK": "收件"},
    # Forms
    "email": {"en": "Email", "zh-HK": "電郵"},
    "password": {"en": "Password", "zh-HK": "密碼"},
    "password_confirm": {"en": "Repeat password", "zh-HK": "再次輸入密碼"},
    "display_name": {"en": "Your name", "zh-HK": "您的名稱"},
    "phone_optional": {"en": "Mobile number (optional)", "zh-HK": "手提電話（可選填）"},
    "password_hint": {
        "en": "At least 10 characters.",
        "zh-HK": "最少 10 個字元。",
    },
    "sign_in_title": {"en": "Sign in to your account", "zh-HK": "登入您的帳戶"},
    "sign_up_title": {"en": "Create your account", "zh-HK": "建立您的帳戶"},
    "have_account": {"en": "Already have an account?", "zh-HK": "已有帳戶？"},
    "no_account": {"en": "New here?", "zh-HK": "初次使用？"},
    "signed_out_title": {"en": "You have signed out", "zh-HK": "您已登出"},
    "signed_out_body": {
        "en": "Your session has ended on this device.",
        "zh-HK": "您在此裝置的工作階段已結束。",
    },
    "sign_in_again": {"en": "Sign in again", "zh-HK": "重新登入"},
    "working": {"en": "Please wait…", "zh-HK": "請稍候…"},
    # Errors next to fields (codes from backend.domain.validation and services)
    "email_required": {"en": "Enter your email address.", "zh-HK": "請輸入電郵地址。"},
    "email_too_long": {
        "en": "An email address has at most 254 characters.",
        "zh-HK": "電郵地址不可超過 254 個字元。",
    },
    "email_invalid": {
        "en": "This does not look like an email address (name@example.com).",
        "zh-HK": "電郵地址格式不正確（例如 name@example.com）。",
    },
    "email_taken": {
        "en": "An account with this email already exists. Sign in instead.",
        "zh-HK": "此電郵已有帳戶，請直接登入。",
    },
    "password_too_short": {
        "en": "Use at least 10 characters.",
        "zh-HK": "密碼最少需要 10 個字元。",
    },
    "password_too_long": {
        "en": "Use at most 128 characters.",
        "zh-HK": "密碼不可超過 128 個字元。",
    },
    "password_too_simple": {
        "en": "Use a mix of at least 4 different characters.",
        "zh-HK": "請混合使用最少 4 個不同字元。",
    },
    "password_is_email": {
        "en": "Your password cannot be your email address.",
        "zh-HK": "密碼不可與電郵地址相同。",
    },
    "password_mismatch": {"en": "The two passwords differ.", "zh-HK": "兩次輸入的密碼不相同。"},
    "name_required": {"en": "Enter your name.", "zh-HK": "請輸入名稱。"},
    "name_too_long": {"en": "Use at most 80 characters.", "zh-HK": "名稱不可超過 80 個字元。"},
    "name_invalid": {
        "en": "Names cannot contain < > or control characters.",
        "zh-HK": "名稱不可包含 < > 或控制字元。",
    },
    "phone_invalid": {
        "en": "Enter a mobile number such as 9123 4567 or +852 9123 4567.",
        "zh-HK": "請輸入有效電話號碼，例如 9123 4567 或 +852 9123 4567。",
    },
    "phone_required": {"en": "Enter a mobile number.", "zh-HK": "請輸入電話號碼。"},
    "invalid_credentials": {
        "en": "That email and password do not match an account.",
        "zh-HK": "電郵或密碼不正確。",
    },
    "throttled": {
        "en": "Too many attempts. Try again in {seconds} seconds.",
        "zh-HK": "嘗試次數過多，請於 {seconds} 秒後再試。",
    },
    "not_staff": {
        "en": "This account has no staff access. Customers sign in on the main site.",
        "zh-HK": "此帳戶沒有職員權限。顧客請於主網站登入。",
    },
    "inactive": {
        "en": "This account is disabled. Contact your administrator.",
        "zh-HK": "此帳戶已停用，請聯絡管理員。",
    },
    "service_unavailable": {
        "en": "We could not reach our servers. Please try again in a moment.",
        "zh-HK": "暫時未能連接伺服器，請稍後再試。",
    },
    "unexpected_error": {
        "en": "Something went wrong on our side. Please try again; we have been told.",
        "zh-HK": "系統出現問題，請再試一次；我們已收到通知。",
    },
    # Tracking
    "nav_track": {"en": "Track a parcel", "zh-HK": "追蹤包裹"},
    "nav_my_shipments": {"en": "My shipments", "zh-HK": "我的貨件"},
    "track_title": {"en": "Track your parcels", "zh-HK": "追蹤您的包裹"},
    "track_intro": {
        "en": "Enter up to 20 tracking numbers, separated by spaces, commas or new lines.",
        "zh-HK": "最多可輸入 20 個追蹤編號，以空格、逗號或換行分隔。",
    },
    "track_numbers_label": {"en": "Tracking numbers", "zh-HK": "追蹤編號"},
    "track_button": {"en": "Track", "zh-HK": "追蹤"},
    "numbers_required": {
        "en": "Enter at least one tracking number.",
        "zh-HK": "請輸入最少一個追蹤編號。",
    },
    "too_many_numbers": {
        "en": "Enter at most 20 tracking numbers at a time.",
        "zh-HK": "每次最多可輸入 20 個追蹤編號。",
    },
    "rate_limited": {
        "en": "Too many lookups from your connection. Try again in {seconds} seconds.",
        "zh-HK": "您的查詢次數過多，請於 {seconds} 秒後再試。",
    },
    "result_malformed": {
        "en": "This is not a valid tracking number. Check the letters and digits: ours look like WB123456785HK.",
        "zh-HK": "這不是有效的追蹤編號。請檢查字母及數字：我們的編號格式如 WB123456785HK。",
    },
    "result_unknown": {
        "en": "We have no parcel with this number yet. If it was sent today, please check again later.",
        "zh-HK": "暫時未有此編號的包裹。如包裹今日才寄出，請稍後再查。",
    },
    "carrier": {"en": "Carrier", "zh-HK": "承運商"},
    "route": {"en": "Route", "zh-HK": "路線"},
    "eta": {"en": "Estimated delivery", "zh-HK": "預計送達"},
    "last_update": {"en": "Last update", "zh-HK": "最後更新"},
    "timeline": {"en": "Journey", "zh-HK": "運送紀錄"},
    "no_events": {"en": "No scans yet.", "zh-HK": "暫無掃描紀錄。"},
    "share_link": {"en": "Link to this parcel", "zh-HK": "此包裹的連結"},
    "what_you_can_do": {"en": "What you can do", "zh-HK": "您可以怎樣做"},
    "recipient_details": {"en": "Recipient details", "zh-HK": "收件人資料"},
    "verify_intro": {
        "en": "To see the recipient's name, address and phone, enter the last 4 digits of the recipient's phone number, or the postcode.",
        "zh-HK": "如需查看收件人姓名、地址及電話，請輸入收件人電話號碼的最後 4 位數字或郵政編號。",
    },
    "verify_label": {
        "en": "Last 4 phone digits or postcode",
        "zh-HK": "電話最後 4 位數字或郵政編號",
    },
    "verify_button": {"en": "Show details", "zh-HK": "顯示資料"},
    "factor_mismatch": {
        "en": "That does not match this parcel's recipient.",
        "zh-HK": "資料與此包裹的收件人不符。",
    },
    "verify_rate_limited": {
        "en": "Too many attempts for this parcel. Try again in {seconds} seconds.",
        "zh-HK": "此包裹的嘗試次數過多，請於 {seconds} 秒後再試。",
    },
    "name": {"en": "Name", "zh-HK": "姓名"},
    "phone": {"en": "Phone", "zh-HK": "電話"},
    "address": {"en": "Address", "zh-HK": "地址"},
    "my_shipments_intro": {
        "en": "Everything you sent or that was sent to you, in every service you use.",
        "zh-HK": "您在各服務寄出或收到的所有貨件。",
    },
    "sign_in_to_see": {
        "en": "Sign in to see your shipments.",
        "zh-HK": "請登入以查看您的貨件。",
    },
    # Reasons
    "reason.recipient_absent": {
        "en": "Nobody was available to receive the parcel.",
        "zh-HK": "派送時無人簽收。",
    },
    "reason.bad_address": {
        "en": "The address could not be found or is incomplete.",
        "zh-HK": "地址無法找到或不完整。",
    },
    "reason.customs_documents": {
        "en": "Customs need documents before releasing the parcel.",
        "zh-HK": "海關需要文件才可放行包裹。",
    },
    "reason.customs_duty": {
        "en": "Customs duty must be paid before delivery.",
        "zh-HK": "須先繳付關稅方可派送。",
    },
    "reason.damaged": {"en": "The parcel was damaged in transit.", "zh-HK": "包裹於運送途中損壞。"},
    "reason.lost": {"en": "The parcel cannot be located.", "zh-HK": "暫時未能找到包裹。"},
    "reason.weather": {"en": "Delayed by severe weather.", "zh-HK": "因惡劣天氣延誤。"},
    "reason.refused": {"en": "The recipient refused the parcel.", "zh-HK": "收件人拒收包裹。"},
    "reason.held_at_depot": {
        "en": "The parcel is held at a depot for collection.",
        "zh-HK": "包裹存放於站點待領取。",
    },
    # Next steps
    "next.reschedule": {
        "en": "Arrange another delivery: call us or reply to our SMS with a convenient day, or choose a locker.",
        "zh-HK": "安排再次派送：致電我們或回覆我們的短訊選擇方便的日子，或改為智能櫃取件。",
    },
    "next.collect_at_locker": {
        "en": "Collect it at the locker or store: bring the pickup code from our SMS and an ID.",
        "zh-HK": "請攜同短訊中的取件碼及身份證明文件，到智能櫃或門市取件。",
    },
    "next.provide_customs_documents": {
        "en": "Send the commercial invoice or ID requested by customs to our customs team by replying to our email.",
        "zh-HK": "請回覆我們的電郵，向清關團隊提供海關要求的商業發票或身份證明。",
    },
    "next.pay_customs_duty": {
        "en": "Pay the customs duty using the link in our SMS; delivery resumes once it is paid.",
        "zh-HK": "請透過短訊中的連結繳付關稅，付款後即會繼續派送。",
    },
    "next.update_address": {
        "en": "Tell us the correct address by calling our hotline; we will deliver again.",
        "zh-HK": "請致電熱線提供正確地址，我們會再次派送。",
    },
    "next.contact_support": {
        "en": "Contact our support team with this tracking number; we will investigate and keep you informed.",
        "zh-HK": "請提供此追蹤編號聯絡客戶服務，我們會跟進並通知您。",
    },
    "next.contact_sender": {
        "en": "The parcel is going back to the sender: contact them to arrange another shipment.",
        "zh-HK": "包裹正退回寄件人，請聯絡寄件人重新安排寄送。",
    },
    "next.wait": {
        "en": "No action needed: we will deliver as soon as it is safe.",
        "zh-HK": "毋須採取行動，情況安全後我們會盡快派送。",
    },
    # Staff portal
    "staff_portal": {"en": "Staff portal", "zh-HK": "職員平台"},
    "staff_sign_in_title": {"en": "Staff sign in", "zh-HK": "職員登入"},
    "tenant": {"en": "Business line", "zh-HK": "業務線"},
    "nav_home": {"en": "Overview", "zh-HK": "總覽"},
    "nav_shipments": {"en": "Shipments", "zh-HK": "貨件"},
    "nav_audit": {"en": "Audit log", "zh-HK": "審計記錄"},
    "nav_carriers": {"en": "Carriers", "zh-HK": "承運商"},
    "refresh": {"en": "Refresh", "zh-HK": "重新整理"},
    "carriers_intro": {
        "en": "Each carrier account over the last minute: requests against its limit, refusals, errors and the circuit breaker.",
        "zh-HK": "各承運商帳戶過去一分鐘的狀況：請求量與上限、被拒次數、錯誤及斷路器狀態。",
    },
    "carrier_mode": {"en": "Mode", "zh-HK": "模式"},
    "load_vs_limit": {"en": "Requests/s vs limit", "zh-HK": "每秒請求／上限"},
    "peak_second": {"en": "Busiest second", "zh-HK": "最高每秒請求"},
    "ok_requests": {"en": "OK", "zh-HK": "成功"},
    "answered_429": {"en": "429s", "zh-HK": "429 次數"},
    "errors": {"en": "Errors", "zh-HK": "錯誤"},
    "breaker": {"en": "Breaker", "zh-HK": "斷路器"},
    "last_sync": {"en": "Last sync", "zh-HK": "最後同步"},
    "active_shipments": {"en": "Active parcels", "zh-HK": "運送中包裹"},
    "unknown_codes": {"en": "Unknown carrier codes", "zh-HK": "未能識別的承運商代碼"},
    "unknown_codes_intro": {
        "en": "Codes a carrier sent that we cannot map yet (last 30 days). Parcels keep their last known status until the code is mapped.",
        "zh-HK": "承運商傳來但尚未能對應的代碼（過去 30 日）。代碼對應前，包裹保持最後已知狀態。",
    },
    "raw_code": {"en": "Code", "zh-HK": "代碼"},
    "events": {"en": "Events", "zh-HK": "事件數"},
    "last_seen": {"en": "Last seen", "zh-HK": "最後出現"},
    "your_roles": {"en": "Your roles here", "zh-HK": "您在此的角色"},
    "card_shipments": {"en": "Shipments by status", "zh-HK": "各狀態貨件"},
    "card_quarantine": {"en": "Orders in quarantine", "zh-HK": "待處理的隔離訂單"},
    "card_payments": {"en": "Payments, last 7 days", "zh-HK": "過去 7 日付款"},
    "card_revenue": {"en": "Revenue, last 7 days", "zh-HK": "過去 7 日收入"},
    "card_refunds": {"en": "Refunds, last 7 days", "zh-HK": "過去 7 日退款"},
    "card_webhooks": {"en": "Failed webhooks", "zh-HK": "失敗的 Webhook"},
    "card_staff": {"en": "Staff members", "zh-HK": "職員人數"},
    "card_audit": {"en": "Audited actions, last 24 h", "zh-HK": "過去 24 小時審計記錄"},
    "total": {"en": "Total", "zh-HK": "總數"},
    "not_allowed": {
        "en": "Your role does not allow this page for this business line.",
        "zh-HK": "您的角色無權查看此業務線的這個頁面。",
    },
    "filter_status": {"en": "Filter by status", "zh-HK": "按狀態篩選"},
    "all_statuses": {"en": "All statuses", "zh-HK": "所有狀態"},
    "recipient": {"en": "Recipient", "zh-HK": "收件人"},
    "city": {"en": "City", "zh-HK": "城市"},
    "next_page": {"en": "Next page", "zh-HK": "下一頁"},
    "first_page": {"en": "First page", "zh-HK": "第一頁"},
    "no_rows": {"en": "Nothing to show.", "zh-HK": "沒有資料。"},
    "when": {"en": "When", "zh-HK": "時間"},
    "action": {"en": "Action", "zh-HK": "操作"},
    "actor": {"en": "By", "zh-HK": "操作者"},
    "target": {"en": "Target", "zh-HK": "對象"},
    "ip": {"en": "IP", "zh-HK": "IP"},
    # Shipment statuses
    "status.pending": {"en": "Information received", "zh-HK": "已收到資料"},
    "status.picked_up": {"en": "Picked up", "zh-HK": "已收件"},
    "status.in_transit": {"en": "In transit", "zh-HK": "運送中"},
    "status.customs": {"en": "In customs", "zh-HK": "清關中"},
    "status.out_for_delivery": {"en": "Out for delivery", "zh-HK": "派送中"},
    "status.ready_for_pickup": {"en": "Ready for pickup", "zh-HK": "可供取件"},
    "status.delivery_failed": {"en": "Delivery attempt failed", "zh-HK": "派送未成功"},
    "status.exception": {"en": "Exception", "zh-HK": "異常"},
    "status.returning": {"en": "Returning to sender", "zh-HK": "退回寄件人途中"},
    "status.returned": {"en": "Returned to sender", "zh-HK": "已退回寄件人"},
    "status.delivered": {"en": "Delivered", "zh-HK": "已送達"},
    "status.cancelled": {"en": "Cancelled", "zh-HK": "已取消"},
    "status.unknown": {"en": "Status unclear", "zh-HK": "狀態不明"},
}

for _area in (ORDER_TEXT, STAFF_PAYMENT_TEXT):
    _clash = set(_area) & set(CATALOG)
    assert not _clash, f"text keys defined twice: {sorted(_clash)}"
    CATALOG.update(_area)

STATUS_KEYS = [key for key in CATALOG if key.startswith("status.")]
REASON_KEYS = [key for key in CATALOG if key.startswith("reason.")]
NEXT_STEP_KEYS = [key for key in CATALOG if key.startswith("next.")]


def translate(key: str, locale: str, **values: object) -> str:
    """Server-side text in `locale` (falls back to English, then to the key itself)."""
    entry = CATALOG.get(key)
    if entry is None:
        return key
    text = entry.get(locale if locale in SUPPORTED_LOCALES else "en", entry["en"])
    return text.format(**values) if values else text


def t(key: str) -> rx.Var:
    """Text that follows the language switch in the browser, without a round trip."""
    entry = CATALOG[key]
    return rx.cond(AppState.locale == "zh-HK", entry["zh-HK"], entry["en"])


def _by_code(code: rx.Var, keys: list[str]) -> rx.Var:
    return rx.match(code, *[(key.split(".", 1)[1], t(key)) for key in keys], code)


def status_label(status: rx.Var) -> rx.Var:
    """A shipment status var shown in words, in the current language."""
    return _by_code(status, STATUS_KEYS)


def reason_text(reason: rx.Var) -> rx.Var:
    return _by_code(reason, REASON_KEYS)


def next_step_text(step: rx.Var) -> rx.Var:
    return _by_code(step, NEXT_STEP_KEYS)


def t_format(key: str, **values: rx.Var) -> rx.Var:
    """Like t(), with {placeholders} filled from vars, in whichever language is shown."""

    def fill(template: str) -> rx.Var:
        parts = re.split(r"{(\w+)}", template)  # literal, name, literal, name, ...
        text: rx.Var = rx.Var.create(parts[0])
        for i in range(1, len(parts), 2):
            text = text + values[parts[i]].to_string() + parts[i + 1]
        return text

    entry = CATALOG[key]
    return rx.cond(AppState.locale == "zh-HK", fill(entry["zh-HK"]), fill(entry["en"]))
