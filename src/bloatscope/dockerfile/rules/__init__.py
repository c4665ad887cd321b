"""The size lint rules."""
