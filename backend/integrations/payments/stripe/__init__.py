"""Stripe: PaymentIntents confirmed by Stripe.js card fields on our page, signed webhooks, refunds."""
