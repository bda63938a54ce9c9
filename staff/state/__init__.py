"""Reflex states of the staff portal (one substate per page)."""
