"""End-to-end tests: `catalog serve` as a real process, driven over HTTP."""
