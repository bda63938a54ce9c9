"""Use cases: the only layer the UI, the HTTP API and the jobs call. Every call takes tenant scope."""
