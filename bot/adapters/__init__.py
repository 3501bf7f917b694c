"""Adapters: the edges that translate between the core and the outside (web pages for now)."""
