"""Stores in one SQLite file (WAL), shared by every worker process of one server."""
