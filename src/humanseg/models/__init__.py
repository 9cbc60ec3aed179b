"""Model catalog, store (pull, verify, cache) and runtimes."""
