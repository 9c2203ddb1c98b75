"""What tests in several folders share: calls raced from threads, the CLI run as a subprocess, the app in process
with tokens for its people, and GraphQL input written from a services payload."""
