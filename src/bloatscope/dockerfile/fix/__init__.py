"""``bloatscope fix``: rewriting a Dockerfile so the image it builds is smaller."""
