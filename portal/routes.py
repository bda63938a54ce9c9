"""Route constants for both portals, so links and redirects never drift from page registrations."""

HOME = "/"
SIGN_IN = "/signin"
SIGN_UP = "/signup"
SIGNED_OUT = "/signed-out"
TRACK = "/track"
TRACK_NUMBER = "/track/[number]"
MY_SHIPMENTS = "/shipments"

STAFF_HOME = "/staff"
STAFF_SIGN_IN = "/staff/signin"
STAFF_SIGNED_OUT = "/staff/signed-out"
STAFF_SHIPMENTS = "/staff/shipments"
STAFF_AUDIT = "/staff/audit"
STAFF_CARRIERS = "/staff/carriers"

AUTH_COMPLETE = "/api/auth/complete"
AUTH_SIGNED_OUT = "/api/auth/signed-out"
