"""`python -m catalog.cli`: the same as the `catalog` command."""

from catalog.cli.main import main

main()
