"""A metadata catalog for public-sector data with policy-as-code access control."""

__all__ = ["__version__"]

__version__ = "0.1.0"
