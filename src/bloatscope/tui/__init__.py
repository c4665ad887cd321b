"""The terminal UI of ``bloatscope explore``: the only package that imports Textual. It draws
what the explore model and the report hold; it computes nothing about the image itself."""
