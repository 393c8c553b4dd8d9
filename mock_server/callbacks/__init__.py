"""Callbacks: the sender's pure parts, one delivery attempt, and the dispatcher."""
