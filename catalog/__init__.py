"""A metadata catalog for public-sector data with policy-as-code access control."""

__version__ = "0.1.0"
