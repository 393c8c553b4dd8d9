"""`python -m mock_server` is `flux2-mock`."""

from mock_server.cli import main

main()
