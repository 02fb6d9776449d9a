"""`python -m wire serve ...` runs the server (same as the `vecgres` console script)."""

from wire.cli import main

main()
