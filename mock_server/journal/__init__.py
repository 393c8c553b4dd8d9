"""The request journal: every API request the mock answered, secrets masked."""
