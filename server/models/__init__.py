"""Refuge's models, one module per domain; importing this registers every table."""

from server.models import checkins, people

__all__ = ["checkins", "people"]
