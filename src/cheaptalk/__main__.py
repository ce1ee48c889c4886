"""``python -m cheaptalk`` runs the command line."""

from cheaptalk._console import main

main()
