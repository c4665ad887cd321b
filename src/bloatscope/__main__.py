"""Entry point for ``python -m bloatscope``."""

from bloatscope.cli import main

raise SystemExit(main())
