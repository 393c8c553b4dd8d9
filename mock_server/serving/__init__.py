"""The production server and its workers (a gated threaded gunicorn worker)."""
