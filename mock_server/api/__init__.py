"""The API's two endpoints (plus balance and result images): parse, call one operation, wrap."""
