"""Example code to copy into your own project: a reference client of the Flux-2 API."""
