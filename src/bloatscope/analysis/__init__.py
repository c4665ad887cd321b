"""Pure functions from an image to numbers and findings."""
