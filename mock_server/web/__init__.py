"""Flask plumbing every view shares: the error handlers and request parsing."""
