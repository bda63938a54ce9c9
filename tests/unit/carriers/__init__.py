"""Unit tests of the carrier adapters: recorded answers over httpx.MockTransport, no network."""
