"""Refuge's models, one module per domain; importing this registers every table."""
