"""Customer portal: pages, states and components; the rx.App lives in portal.app."""
