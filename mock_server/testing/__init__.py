"""What the pytest fixture runs: a mock in a thread, or a handle on a running one."""
