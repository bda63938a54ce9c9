"""Staff and admin portal: pages, states and components (mounted by portal.app under /staff)."""
