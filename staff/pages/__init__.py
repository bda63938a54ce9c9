"""Staff and admin pages, one module each."""
