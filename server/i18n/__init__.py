"""Locales: `locales` (tags, negotiation, text direction, catalogues; no Flask), `web` (the
Flask wiring), `tools` (catalogue tooling for the Makefile) and `status` (translation coverage).
"""
