"""SwiftLink: a push-only carrier that sends signed webhooks and resends them on request."""
