"""Adyen: Pay by Link for the hosted page, HMAC-signed standard notifications, refunds."""
