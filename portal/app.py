"""The Reflex app: customer pages, staff pages and our HTTP routes on one server."""

from __future__ import annotations

import reflex as rx

from backend.api.app import build_api
from backend.gc_freeze import freeze_startup_objects
from portal import routes
from portal.errors import backend_exception_handler
from portal.live import live_route
from portal.pages.home import HomeState, home_page
from portal.pages.my_shipments import MyShipmentsState, my_shipments_page
from portal.pages.order.card_page import CardPaymentState, card_page
from portal.pages.order.list_page import MyOrdersState, my_orders_page
from portal.pages.order.page import order_page
from portal.pages.order.state import OrderState
from portal.pages.ship.page import ship_page
from portal.pages.ship.review import review_page
from portal.pages.ship.state import ShipState
from portal.pages.sign_in import sign_in_page
from portal.pages.sign_up import sign_up_page
from portal.pages.signed_out import signed_out_page
from portal.pages.track.page import track_page
from portal.pages.track.state import TrackState
from portal.state.portal import PortalState
from staff.pages.audit import StaffAuditState, staff_audit_page
from staff.pages.carriers import StaffCarriersState, staff_carriers_page
from staff.pages.home import StaffHomeState, staff_home_page
from staff.pages.payment_detail import StaffPaymentState, staff_payment_page
from staff.pages.payments import StaffPaymentsState, staff_payments_page
from staff.pages.shipments import StaffShipmentsState, staff_shipments_page
from staff.pages.sign_in import staff_sign_in_page
from staff.pages.signed_out import staff_signed_out_page
from staff.pages.webhooks import StaffWebhooksState, staff_webhooks_page
from staff.state.staff import StaffState

app = rx.App(
    api_transformer=build_api([live_route(lambda: app)]),
    stylesheets=["/styles.css"],
    backend_exception_handler=backend_exception_handler,
)
# Runs in each backend worker once the app is built (a plain function: called at start-up).
app.register_lifespan_task(freeze_startup_objects)

app.add_page(
    home_page,
    route=routes.HOME,
    title="Waybill",
    on_load=[PortalState.load, HomeState.load_overview],
)
app.add_page(
    sign_in_page, route=routes.SIGN_IN, title="Sign in · Waybill", on_load=PortalState.load
)
app.add_page(
    sign_up_page, route=routes.SIGN_UP, title="Create account · Waybill", on_load=PortalState.load
)
app.add_page(
    signed_out_page, route=routes.SIGNED_OUT, title="Signed out · Waybill", on_load=PortalState.load
)
app.add_page(
    track_page,
    route=routes.TRACK,
    title="Track a parcel · Waybill",
    on_load=[PortalState.load, TrackState.load_asked],
)
app.add_page(
    track_page,
    route=routes.TRACK_NUMBER,
    title="Parcel tracking · Waybill",
    on_load=[PortalState.load, TrackState.load_number],
)
app.add_page(
    my_shipments_page,
    route=routes.MY_SHIPMENTS,
    title="My shipments · Waybill",
    on_load=[PortalState.load, MyShipmentsState.load_rows],
)

app.add_page(
    ship_page,
    route=routes.SHIP,
    title="Send a parcel · Waybill",
    on_load=[PortalState.load, ShipState.load_form],
)
app.add_page(
    review_page,
    route=routes.SHIP_REVIEW,
    title="Review your order · Waybill",
    on_load=[PortalState.load, ShipState.load_review],
)
app.add_page(
    order_page,
    route=routes.ORDER,
    title="Your order · Waybill",
    on_load=[PortalState.load, OrderState.load_order],
)
app.add_page(
    card_page,
    route=routes.CARD_PAYMENT,
    title="Pay by card · Waybill",
    on_load=[PortalState.load, CardPaymentState.load_card],
)
app.add_page(
    my_orders_page,
    route=routes.ORDERS,
    title="My orders · Waybill",
    on_load=[PortalState.load, MyOrdersState.load_orders],
)

app.add_page(staff_sign_in_page, route=routes.STAFF_SIGN_IN, title="Staff sign in · Waybill")
app.add_page(
    staff_signed_out_page, route=routes.STAFF_SIGNED_OUT, title="Signed out · Waybill staff"
)
app.add_page(
    staff_home_page,
    route=routes.STAFF_HOME,
    title="Overview · Waybill staff",
    on_load=[StaffState.load, StaffHomeState.load_dashboard],
)
app.add_page(
    staff_shipments_page,
    route=routes.STAFF_SHIPMENTS,
    title="Shipments · Waybill staff",
    on_load=[StaffState.load, StaffShipmentsState.load_rows],
)
app.add_page(
    staff_audit_page,
    route=routes.STAFF_AUDIT,
    title="Audit log · Waybill staff",
    on_load=[StaffState.load, StaffAuditState.load_entries],
)
app.add_page(
    staff_carriers_page,
    route=routes.STAFF_CARRIERS,
    title="Carriers · Waybill staff",
    on_load=[StaffState.load, StaffCarriersState.load_accounts],
)
app.add_page(
    staff_payments_page,
    route=routes.STAFF_PAYMENTS,
    title="Transactions · Waybill staff",
    on_load=[StaffState.load, StaffPaymentsState.load_rows],
)
app.add_page(
    staff_payment_page,
    route=routes.STAFF_PAYMENT,
    title="Payment · Waybill staff",
    on_load=[StaffState.load, StaffPaymentState.load_payment],
)
app.add_page(
    staff_webhooks_page,
    route=routes.STAFF_WEBHOOKS,
    title="Webhooks · Waybill staff",
    on_load=[StaffState.load, StaffWebhooksState.load_rows],
)
