"""Immutable data: images, layers, entries, trees and reports. No I/O, no rendering."""
