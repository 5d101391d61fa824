"""The content domain: loading files, markup, HSDS and CAP interchange, search."""
