"""``python -m fraiseql_compiler.cli``: the same as the ``fraiseql`` command."""

from fraiseql_compiler.cli import main

main()
