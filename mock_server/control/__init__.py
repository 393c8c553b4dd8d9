"""The control plane under /_mock/: one service, its views, the dashboard and metrics."""
