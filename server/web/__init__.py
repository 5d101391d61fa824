"""The HTTP layer: public pages, the JSON API, health, headers and error pages."""
