"""Components shared by customer and staff pages."""
