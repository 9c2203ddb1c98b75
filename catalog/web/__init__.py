"""Server-rendered pages for people: datasets, lineage, impact, decisions, agreements, sign-in.

Pages call the same services, with the same principal and policy gate, as the GraphQL API.
"""

from __future__ import annotations

from catalog.web.routes import web_routes
from catalog.web.session import web_middleware

__all__ = ["web_middleware", "web_routes"]
