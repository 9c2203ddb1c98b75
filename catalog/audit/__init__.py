"""The audit trail's primitives: every change's event, appended in the change's own transaction and hash-chained
(append, chain), and signed checkpoints to verify an export offline (checkpoint). The trail as auditors read and
export it, and a record's history, are services (services/audit_trail.py, services/history.py)."""

# Its modules are its surface: the package itself exports nothing.
__all__: list[str] = []
