"""``python -m cheaptalk`` runs the command line."""

from cheaptalk.cli import main

main()
