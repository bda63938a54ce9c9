"""Public tracking: the state (state.py) and the page (page.py)."""
