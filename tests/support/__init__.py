"""What tests in several folders share: calls raced from threads, the CLI run as a subprocess, the app in process
with tokens for its people, GraphQL input written from a services payload, and trained people to register."""
