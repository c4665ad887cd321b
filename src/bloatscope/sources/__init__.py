"""Transports: turn an image reference into a BlobStore. They know files, not image formats."""
