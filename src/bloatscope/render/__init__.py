"""Renderers: a Report in, text or bytes out. One module per format."""
