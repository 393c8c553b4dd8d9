"""PostgreSQL as the store many mock instances share (docs/deploying.md)."""
