"""The GraphiQL page for browsers. Its assets load from a configurable URL; none are kept in this repo.

The page holds no inline script: our few lines that start GraphiQL are /static/graphiql.js, so the page's
Content-Security-Policy (catalog.api.security.graphiql_policy) allows scripts from this server and the assets
URL only.
"""

from __future__ import annotations

import html

GRAPHIQL_VERSION = "3.8.3"
REACT_VERSION = "18.3.1"


def graphiql_page(assets_url: str) -> str:
    base = html.escape(assets_url.rstrip("/"), quote=True)
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Catalog GraphiQL</title>
  <link rel="stylesheet" href="{base}/graphiql@{GRAPHIQL_VERSION}/graphiql.min.css">
  <link rel="stylesheet" href="/static/graphiql.css">
</head>
<body>
  <div id="graphiql">Loading GraphiQL from {base} &hellip;</div>
  <script crossorigin src="{base}/react@{REACT_VERSION}/umd/react.production.min.js"></script>
  <script crossorigin src="{base}/react-dom@{REACT_VERSION}/umd/react-dom.production.min.js"></script>
  <script crossorigin src="{base}/graphiql@{GRAPHIQL_VERSION}/graphiql.min.js"></script>
  <script src="/static/graphiql.js"></script>
</body>
</html>"""
