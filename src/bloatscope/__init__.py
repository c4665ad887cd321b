"""bloatscope: why is my container image so big, and what to change."""

__version__ = "0.1.0"
