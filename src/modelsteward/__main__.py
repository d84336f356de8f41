"""``python -m modelsteward`` is the ``steward`` command."""

from modelsteward.cli.main import main

main()
