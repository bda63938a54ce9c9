"""Checkout.com: the Hosted Payments Page (card and Octopus), Cko-Signature webhooks, refunds."""
