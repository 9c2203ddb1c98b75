"""Publishing the catalog in open standards for others to harvest: DCAT-AP 3 (Turtle or JSON-LD), as anonymous
readers see it. It reads through the services, as the API and the CLI do; connectors import it, never the reverse.
"""

# Its modules are its surface: the package itself exports nothing.
__all__: list[str] = []
