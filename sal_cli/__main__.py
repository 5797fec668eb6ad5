"""`python -m sal_cli` is the `sal` command."""

from sal_cli.cli.app import main

main()
