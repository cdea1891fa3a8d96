"""What `run.py EXP --help` and `run.py list --presets` print, from an
experiment's catalog entry (`experiments.catalog.Entry`), without importing
the experiment or JAX."""

import textwrap

from common.config import SHARED_HELP

WIDTH = 100
COLUMN = 24  # where an option's help starts, as in SHARED_HELP


def help_text(entry) -> str:
    """The experiment's help: what it reproduces, the shared options, then each
    Config field as an option with its quick value and other presets' where they differ."""
    about = [f"run.py {entry.name}: {entry.reproduces}", textwrap.fill(entry.config_doc, WIDTH)]
    options = [_option(option) for option in entry.options]
    return "\n\n".join([
        f"usage: run.py {entry.name} [--preset NAME] [options]",
        *filter(None, about),
        SHARED_HELP % ",".join(entry.presets),
        "\n".join([f"options of {entry.name} (default: the quick preset's value; other presets' where they differ):",
                   *options]),
        *filter(None, [sweep_line(entry)]),
    ])


def sweep_line(entry) -> str:
    """Which fields' --sweep points train as members of one compiled program (common.sweep_batch)."""
    if not entry.member_fields:
        return ""
    names = ", ".join(entry.member_fields)
    return (f"--sweep over {names} trains the points as members of one compiled program; "
            "other fields run a program per point")


def _option(option) -> str:
    quick = option.values["quick"]
    differing = [f"{preset}: {shown(value)}" for preset, value in option.values.items() if value != quick]
    text = " ".join(f"{option.help} (default: {'; '.join([shown(quick), *differing])})".split())
    head = f"  {option.flag}, --no-{option.flag[2:]}" if option.type == "bool" else f"  {option.flag} {option.type}"
    if len(head) > COLUMN - 2:  # too wide for the column: the help starts on the next line
        return f"{head}\n{textwrap.fill(text, WIDTH, initial_indent=' ' * COLUMN, subsequent_indent=' ' * COLUMN)}"
    return textwrap.fill(head.ljust(COLUMN) + text, WIDTH, subsequent_indent=" " * COLUMN)


def preset_lines(entry) -> list[str]:
    """One line per preset but quick: the options it sets to other values than quick does;
    then, where the experiment has member fields, the sweep line."""
    return [*(f"preset {preset}: " + (" ".join(f"--{name.replace('_', '-')} {shown(value)}"
                                             for name, value in changes.items()) or "the quick values")
            for preset, changes in entry.preset_changes().items()), *filter(None, [sweep_line(entry)])]


def shown(value) -> str:
    """A value as it is typed on the command line: a tuple (a JSON list) as its items separated by spaces."""
    if isinstance(value, list):
        return " ".join(shown(v) for v in value)
    return str(value)
