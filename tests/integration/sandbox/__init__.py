"""Tests of the sandbox carriers, run as the demo runs them: a real server in a subprocess."""
