"""The client's version: a leaf module, so ``_http`` (the User-Agent) need not import the package face."""

__version__ = "0.1.0"
