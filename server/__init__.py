"""Refuge: a privacy-preserving crisis resource assistant."""
