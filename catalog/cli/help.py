"""How `catalog ... --help` reads: flags and placeholders as users of git and kubectl expect them.

typer's renderers print Python types (`--out <path>`, `--backend <list[sqlite|neo4j]>`), give every flag a
`<bool>` and show a required argument as `{source}`; its rich renderer also takes a `[default: ...]` written in a
help string for markup and drops it. So the CLI uses click's plain layout, and each parameter's help line is
built here from click's own attributes: `--reset / --no-reset`, `--out FILE`, `--backend [sqlite|neo4j]...`,
`SOURCE`, then the help text with `[default: ...; required]` (`[default: off]` for a flag pair). An option
whose default is not a plain value says what happens without it through `show_default`, e.g.
`show_default="standard output"`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import Enum
from typing import Any, TypeVar

import typer
from typer import _click  # typer vendors click: its Context and HelpFormatter are the ones typer passes in
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

F = TypeVar("F", bound=Callable[..., Any])


def choices(values: Iterable[Enum | str]) -> str:
    """A placeholder that lists an option's choices, an enum's values or plain strings: `[sqlite|neo4j]`."""
    return "[" + "|".join(str(value.value) if isinstance(value, Enum) else value for value in values) + "]"


def placeholder(param: TyperArgument | TyperOption) -> str:
    """What a user types for the parameter: its metavar, else its name in capitals; `...` when it repeats."""
    name = param.metavar or (param.name or "value").upper()
    repeats = param.multiple if isinstance(param, TyperOption) else param.nargs == -1
    return f"{name}..." if repeats else name


def default_text(param: TyperArgument | TyperOption, click_context: _click.Context) -> str | None:
    """The `[default: ...]` text: the `show_default` words when given, else the default value, if it has one."""
    if isinstance(param.show_default, str):
        return param.show_default
    if not param.show_default:
        return None
    default = param.get_default(click_context, call=False)
    if isinstance(param, TyperOption) and param.is_flag:
        # A lone flag such as --help is simply off unless given; a pair says which side holds when neither is given.
        return ("on" if default else "off") if param.secondary_opts else None
    if default is None or default == [] or default == ():
        return None
    if isinstance(default, (list, tuple)):
        return ", ".join(str(item.value if isinstance(item, Enum) else item) for item in default)
    return str(default.value if isinstance(default, Enum) else default)


def help_record(param: _click.Parameter, click_context: _click.Context) -> tuple[str, str] | None:
    """One line of the Arguments or Options list: the names and placeholder, then the help and its notes."""
    assert isinstance(param, TyperArgument | TyperOption), f"not a typer parameter: {param!r}"
    if param.hidden:
        return None
    if isinstance(param, TyperArgument):
        names = placeholder(param)
    else:
        names = _click.formatting.join_options(param.opts)[0]
        if param.secondary_opts:
            names += " / " + _click.formatting.join_options(param.secondary_opts)[0]
        if not param.is_flag:
            names += " " + placeholder(param)
    notes = []
    default = default_text(param, click_context)
    if default:
        notes.append(f"default: {default}")
    if param.required:
        notes.append("required")
    help = param.help or ""
    if notes:
        help = f"{help}  [{'; '.join(notes)}]" if help else f"[{'; '.join(notes)}]"
    return names, help


def usage_pieces(command: _click.Command, click_context: _click.Context) -> list[str]:
    """`[OPTIONS] SOURCE`: the usage line's words after the command name."""
    pieces = [command.options_metavar] if command.options_metavar else []
    for param in command.get_params(click_context):
        if isinstance(param, TyperArgument) and not param.hidden:
            pieces.append(placeholder(param) if param.required else f"[{placeholder(param)}]")
    return pieces


def write_parameters(command: _click.Command, click_context: _click.Context, formatter: _click.HelpFormatter) -> None:
    """The Arguments and Options sections, one `help_record` per parameter."""
    arguments: list[tuple[str, str]] = []
    options: list[tuple[str, str]] = []
    for param in command.get_params(click_context):
        record = help_record(param, click_context)
        if record is not None:
            (arguments if isinstance(param, TyperArgument) else options).append(record)
    for title, records in (("Arguments", arguments), ("Options", options)):
        if records:
            with formatter.section(title):
                formatter.write_dl(records)


class CatalogCommand(TyperCommand):
    """A command whose help uses the layout above."""

    def collect_usage_pieces(self, click_context: _click.Context) -> list[str]:
        return usage_pieces(self, click_context)

    def format_options(self, click_context: _click.Context, formatter: _click.HelpFormatter) -> None:
        write_parameters(self, click_context, formatter)


class CatalogGroup(TyperGroup):
    """A group of commands whose help uses the layout above, then lists the commands."""

    def collect_usage_pieces(self, click_context: _click.Context) -> list[str]:
        return [*usage_pieces(self, click_context), self.subcommand_metavar]

    def format_options(self, click_context: _click.Context, formatter: _click.HelpFormatter) -> None:
        write_parameters(self, click_context, formatter)
        self.format_commands(click_context, formatter)


class CatalogTyper(typer.Typer):
    """A typer app (the CLI or one of its groups) whose groups and commands use the help layout above."""

    def __init__(self, *, help: str, **settings: Any) -> None:
        super().__init__(
            help=help, cls=CatalogGroup, rich_markup_mode=None, no_args_is_help=True, add_completion=False, **settings
        )

    def command(self, name: str | None = None, **settings: Any) -> Callable[[F], F]:
        """Register a command, as `typer.Typer.command` does, with this module's help layout."""
        return super().command(name, cls=settings.pop("cls", CatalogCommand), **settings)
