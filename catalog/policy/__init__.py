"""Policy: decides who may do what, and which catalog entries a principal may see."""

# Its modules are its surface: the package itself exports nothing.
__all__: list[str] = []
