"""Harbour Post: our in-house JSON REST carrier with batch tracking, quotes and bookings."""
