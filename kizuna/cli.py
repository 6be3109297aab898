"""The `kizuna` command.

Pure commands (match, lint, bench) start without Django so that piping a file through them
costs only what they do; everything else is a Django management command.
"""

from __future__ import annotations

import os
import sys
from importlib import import_module

PURE_COMMANDS = {
    "match": "kizuna.core.match_cli",
    "lint": "kizuna.core.lint_cli",
    "triage": "kizuna.core.triage.cli",
}
# Subcommands of a pure command that need the database: `kizuna triage retrain`.
DJANGO_SUBCOMMANDS = {("triage", "retrain"): "retrain"}
BENCHES = {"match": "kizuna.core.bench_match", "triage": "kizuna.core.triage.bench"}

USAGE = """usage: kizuna COMMAND [ARGS]

Desk:
  demo                 set up the demo workspace and serve it at http://127.0.0.1:8000
  serve                serve the desk (web, sources, pipeline) in one process
  migrate              create or update the database tables
  config load FILE     load a workspace from kizuna.toml
  config dump          print a workspace as kizuna.toml
  createuser           create a user with a role in a workspace
  import FILE          import posts (JSONL) through the pipeline
  rules backfill ID    apply a rule to stored posts (rules list shows them)
  triage retrain       retrain a workspace's triage on the corpus and its team's decisions
  crisis check         run the crisis watch now (crisis simulate --brand ID for a drill)

Collection and replies (no database needed):
  match --rules FILE   match JSONL posts on stdin against keyword rules
  lint --platform P    check a reply draft against the posting policy
  triage [--config F]  label JSONL posts on stdin (triage eval FILE, triage train, triage cv)
  bench match|triage   measure the matcher's or triage's throughput

Every Django management command also works (e.g. `kizuna createsuperuser`).
`kizuna COMMAND --help` explains one command.
"""


def main(argv: list[str] | None = None) -> int:
    """Run the kizuna command line."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in {"-h", "--help", "help"}:
        sys.stdout.write(USAGE)
        return 0
    if tuple(args[:2]) in DJANGO_SUBCOMMANDS:
        args = [DJANGO_SUBCOMMANDS[(args[0], args[1])], *args[2:]]
    elif args[0] in PURE_COMMANDS:
        result: int = import_module(PURE_COMMANDS[args[0]]).main(args[1:])
        return result
    if args[0] == "bench":
        if len(args) < 2 or args[1] not in BENCHES:
            sys.stderr.write(f"usage: kizuna bench {{{','.join(BENCHES)}}}\n")
            return 2
        result = import_module(BENCHES[args[1]]).main(args[2:])
        return result
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kizuna.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["kizuna", *args])
    return 0


if __name__ == "__main__":
    sys.exit(main())
