"""Performance harness: `make bench` (see docs/performance.md)."""
