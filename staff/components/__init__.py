"""Components of the staff portal."""
