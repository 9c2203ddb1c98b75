"""Server-rendered pages for people: to read (datasets, lineage, impact, decisions, agreements, people, the policy)
and to work (register and edit datasets, share requests and verdicts, agreement actions, corrections, attestations,
training, roles and status, a signed-in person's work on the home page), with sign-in.

Pages call the same services, with the same principal and policy gate, as the GraphQL API.
"""

from __future__ import annotations

from catalog.web.routes import web_routes
from catalog.web.session import web_middleware

__all__ = ["web_middleware", "web_routes"]
