"""The production server and its workers."""
