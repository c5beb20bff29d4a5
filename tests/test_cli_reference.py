"""The CLI reference (docs/CLI.md) is generated from the parser and kept up to date, and every
option of every command explains itself in its help text."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from ouderpeil.cli import build_parser
from ouderpeil.cli_reference import _subcommands, render

CLI_MD = Path(__file__).resolve().parents[1] / "docs" / "CLI.md"


def _options():
    for name, _help, sub in _subcommands(build_parser()):
        for action in sub._actions:
            if not isinstance(action, argparse._HelpAction):
                yield name, action


def test_cli_md_is_generated_from_the_parser():
    assert CLI_MD.read_text(encoding="utf-8") == render(), (
        "docs/CLI.md is out of date: run `.venv/bin/python -m ouderpeil.cli_reference > docs/CLI.md`"
    )


def test_every_command_is_in_the_reference():
    names = [name for name, _h, _s in _subcommands(build_parser())]
    assert names, "the parser has no subcommands"
    text = CLI_MD.read_text(encoding="utf-8")
    for name in names:
        assert f"## ouderpeil {name}\n" in text


@pytest.mark.parametrize(
    "command,action",
    list(_options()),
    ids=lambda v: v if isinstance(v, str) else "/".join(v.option_strings or [v.dest]),
)
def test_every_option_has_help_that_names_its_default(command, action):
    assert (action.help or "").strip(), (
        f"ouderpeil {command}: option {action.dest} has no help text"
    )
    if action.default not in (None, False, argparse.SUPPRESS):
        assert "standaard" in action.help and str(action.default) in action.help, (
            f"ouderpeil {command} {action.dest}: help should name the default {action.default!r}"
        )


def test_every_command_has_help_and_description():
    for name, help_, sub in _subcommands(build_parser()):
        assert help_.strip(), f"ouderpeil {name} has no help line"
        assert (sub.description or "").strip(), f"ouderpeil {name} has no description"
