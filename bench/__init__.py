"""Benchmarks: every figure is printed beside a baseline measured in the same run."""

# Its modules are its surface: the package itself exports nothing.
__all__: list[str] = []
