"""Dockerfiles: parsing, tying image layers to their lines, size lint rules and the rewrite."""
