"""Customer pages, one module each."""
