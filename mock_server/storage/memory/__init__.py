"""Stores kept in one process's memory: for the in-process app and the pytest fixture."""
