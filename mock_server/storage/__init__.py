"""Where shared state lives: the one place that knows a storage engine."""
