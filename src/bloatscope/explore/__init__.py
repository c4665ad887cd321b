"""The browsing model of ``bloatscope explore``, free of Textual: the file tree dive shows for
a layer (compare.py, over one index of every path, index.py), the lines a pane draws of it
(view.py), and what a finding or a package points at in it (links.py)."""
