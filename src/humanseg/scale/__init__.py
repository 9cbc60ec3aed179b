"""Serving beyond one machine: the HTTP API on Ray Serve."""
