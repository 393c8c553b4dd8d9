"""The paid part: plans and rate limits, credits and the spend meter, server faults."""
