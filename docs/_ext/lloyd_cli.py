"""``.. lloyd-cli::``: the reference of the ``lloyd`` command, generated from the argparse parser
of :mod:`lloyd.cli` (the one source ``--help`` prints), with a table of its exit codes.

For the command and each sub-command: its ``--help`` text exactly as the terminal shows it
(at 100 columns), then a table of its options. The exit codes come from
:class:`lloyd.cli.ExitCode` and the meanings from the help's epilog, so a code added to one
and not the other fails the build.
"""

from __future__ import annotations

import argparse
import os
import re

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

_WIDTH = "88"


def _help(parser):
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = _WIDTH  # argparse wraps to the terminal's width
    try:
        return parser.format_help()
    finally:
        if saved is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = saved


def _subcommands(parser):
    for action in parser._actions:  # argparse has no public walk of its tree
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, sub in action.choices.items():
                yield name, sub, helps.get(name, "")


def _exit_codes(epilog):
    """{code: meaning} from the help's ``exit codes:`` epilog (continuation lines joined)."""
    codes, current = {}, None
    for line in epilog.split("exit codes:", 1)[1].splitlines():
        match = re.match(r"\s+(\d+)\s+(.*)", line)
        if match:
            current = int(match.group(1))
            codes[current] = match.group(2).strip()
        elif current is not None and line.strip():
            codes[current] += " " + line.strip()
    return codes


def _escape(text):
    """Plain text for reStructuredText: markup characters escaped, options as literals (so
    that ``--force`` keeps its two hyphens)."""
    text = text.replace("|", "\\|").replace("*", "\\*").replace("`", "\\`")
    # "\\ " (an escaped space, which renders as nothing) lets a literal touch other text
    return re.sub(r"(?<![\w-])(--?[A-Za-z][\w-]*)", r"\\ ``\1``\\ ", text)


def _table(header, rows):
    """A list-table (reStructuredText) of the rows."""
    lines = [".. list-table::", "   :header-rows: 1", ""]
    for row in [header, *rows]:
        lines.append(f"   * - {row[0]}")
        lines += [f"     - {cell}" for cell in row[1:]]
    return [*lines, ""]


def _options(parser):
    rows = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) or action.help == argparse.SUPPRESS:
            continue
        flags = ", ".join(action.option_strings) or action.metavar or action.dest
        if action.option_strings and action.nargs != 0:
            flags += f" {action.metavar or action.dest.upper()}"
        text = action.help or ""
        if action.choices is not None and not isinstance(action.choices, dict):
            text += f" (one of: {', '.join(map(str, action.choices))})"
        rows.append([f"``{flags}``", _escape(text) or "-"])
    return _table(["option", "meaning"], rows)


class LloydCli(SphinxDirective):
    """Sections for ``lloyd`` and each of its sub-commands, and the exit codes."""

    has_content = False

    def run(self):
        from lloyd.cli import EPILOG, ExitCode, _build_parser

        parser = _build_parser()
        codes = _exit_codes(EPILOG)
        missing = {int(c) for c in ExitCode} ^ set(codes)
        if missing:
            raise self.error(f"exit codes {sorted(missing)} are in ExitCode or the epilog, "
                             "not both")
        lines = ["Exit codes", "----------", ""]
        lines += _table(["code", "name", "meaning"],
                        [[str(int(c)), f"``{c.name}``", _escape(codes[int(c)])]
                         for c in ExitCode])
        sections = [("lloyd", parser, parser.description or "")]
        sections += [(f"lloyd {name}", sub, text) for name, sub, text in _subcommands(parser)]
        for title, sub, text in sections:
            lines += [f"``{title}``", "-" * (len(title) + 4), "", _escape(text), ""]
            lines += [".. code-block:: text", ""]
            # the exit codes are the same for every command: the table above has them
            text = _help(sub).split("exit codes:", 1)[0].rstrip()
            lines += ["   " + line if line else "" for line in text.splitlines()]
            lines += ["", "   exit codes: see the table above"]
            lines += [""]
            lines += _options(sub)
        container = nodes.section()
        nested_parse_with_titles(self.state, StringList(lines, source="lloyd.cli"), container)
        return container.children


def setup(app):
    app.add_directive("lloyd-cli", LloydCli)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
