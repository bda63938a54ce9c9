"""Reflex states of the customer portal (one substate per page)."""
