"""Image reading: manifests, configs and layer tars, from a BlobStore to an Image."""
