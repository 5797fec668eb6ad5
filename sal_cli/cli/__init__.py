"""The `sal` command line: one thin module per subcommand; `app.py` only wires them."""
