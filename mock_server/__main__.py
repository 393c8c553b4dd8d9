"""`python -m mock_server` is `flux2-mock`."""

from .cli import main

main()
