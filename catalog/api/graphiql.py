"""What a browser gets at GET /graphql: by default our own query console, served whole by this server.

No maintained Python package ships GraphiQL's built assets (PyPI holds only Django add-ons and stale copies), and
copying React and GraphiQL into this repo is ruled out. So the default page is a small console of our own
(/static/console.js and /static/console.css): a query, its variables, a token, and the answer. It needs no network
beyond this server, so /graphql works on a machine without internet, under the same strict policy as every page.

The full GraphiQL stays available where a site opts in (CATALOG_API__GRAPHIQL_CDN=true): its React and GraphiQL
load from CATALOG_API__GRAPHIQL_ASSETS_URL, each pinned by a subresource-integrity hash, so a CDN (or mirror)
that serves other bytes is refused by the browser. The page holds no inline script in either form.
"""

from __future__ import annotations

import html

GRAPHIQL_VERSION = "3.8.3"
REACT_VERSION = "18.3.1"
# sha384 of each file as published on npm (unpkg serves the package's files byte for byte). A version bump must
# bring new hashes: compute them from `npm pack graphiql@V react@V react-dom@V` with `openssl dgst -sha384 -binary`.
INTEGRITY = {
    f"graphiql@{GRAPHIQL_VERSION}/graphiql.min.css": (
        "sha384-Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM"
    ),
    f"react@{REACT_VERSION}/umd/react.production.min.js": (
        "sha384-DGyLxAyjq0f9SPpVevD6IgztCFlnMF6oW/XQGmfe+IsZ8TqEiDrcHkMLKI6fiB/Z"
    ),
    f"react-dom@{REACT_VERSION}/umd/react-dom.production.min.js": (
        "sha384-gTGxhz21lVGYNMcdJOyq01Edg0jhn/c22nsx0kyqP0TxaV5WVdsSH1fSDUf5YJj1"
    ),
    f"graphiql@{GRAPHIQL_VERSION}/graphiql.min.js": (
        "sha384-HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie"
    ),
}
EXAMPLE_QUERY = "{\n  me { id agency { name } }\n  datasets(first: 5) { totalCount edges { node { id title } } }\n}\n"


def console_page() -> str:
    """The built-in query console: every asset from this server."""
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Catalog query console</title>
  <link rel="stylesheet" href="/static/console.css">
</head>
<body>
  <main class="console">
    <h1>GraphQL query console</h1>
    <p>Queries run against this server's <code>/graphql</code>. Without a token you are anonymous and see only
      PUBLIC metadata. The schema is in the repository's <code>schema.graphql</code>.</p>
    <form id="console">
      <label for="query">Query</label>
      <textarea id="query" name="query" rows="12" spellcheck="false">{html.escape(EXAMPLE_QUERY)}</textarea>
      <label for="variables">Variables (JSON)</label>
      <textarea id="variables" name="variables" rows="3" spellcheck="false"></textarea>
      <label for="token">Token (from <code>catalog token issue --person ID</code>)</label>
      <input id="token" name="token" type="password" autocomplete="off">
      <button id="run" type="submit">Run</button>
    </form>
    <h2>Result</h2>
    <pre id="result" aria-live="polite"></pre>
  </main>
  <script src="/static/console.js"></script>
</body>
</html>"""


def graphiql_page(assets_url: str) -> str:
    """The full GraphiQL, its assets from `assets_url`, each pinned by its integrity hash."""
    base = html.escape(assets_url.rstrip("/"), quote=True)

    def asset(path: str) -> str:
        return f'href="{base}/{path}" integrity="{INTEGRITY[path]}" crossorigin="anonymous"'

    def script(path: str) -> str:
        return f'<script src="{base}/{path}" integrity="{INTEGRITY[path]}" crossorigin="anonymous"></script>'

    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Catalog GraphiQL</title>
  <link rel="stylesheet" {asset(f"graphiql@{GRAPHIQL_VERSION}/graphiql.min.css")}>
  <link rel="stylesheet" href="/static/graphiql.css">
</head>
<body>
  <div id="graphiql">Loading GraphiQL from {base} &hellip;</div>
  {script(f"react@{REACT_VERSION}/umd/react.production.min.js")}
  {script(f"react-dom@{REACT_VERSION}/umd/react-dom.production.min.js")}
  {script(f"graphiql@{GRAPHIQL_VERSION}/graphiql.min.js")}
  <script src="/static/graphiql.js"></script>
</body>
</html>"""
