"""PayPal (Orders v2): hosted approval, capture after approval, refunds, self-verified webhooks."""
