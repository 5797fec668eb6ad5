"""`sal profiles list|show`: the built-in profiles and the resolved settings with their sources."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from sal_cli.cli import _options as o

app = typer.Typer(help="List built-in profiles and show resolved settings.", no_args_is_help=True)


@app.command("list")
def profiles_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List the built-in profiles (name, kind, what it extends, description)."""
    from rich.console import Console
    from rich.table import Table

    from sal_cli.profiles import DEFAULT_PROFILE, list_profiles, schema_for

    infos = list_profiles()
    if as_json:
        rows = [{"name": i.name, "kind": i.kind, "extends": i.extends, "description": i.description} for i in infos]
        typer.echo(json.dumps(rows, indent=2))
        return
    defaults = {DEFAULT_PROFILE, schema_for("train-prm").default_profile}
    table = Table("profile", "kind", "extends", "description", box=None, pad_edge=False)
    for info in infos:
        name = f"{info.name} (default)" if info.name in defaults else info.name
        table.add_row(name, info.kind, info.extends, info.description)
    console = Console(soft_wrap=True)
    if console.is_terminal:
        console.print(table)
        return
    console.width = 1 << 12  # piped: whole names and descriptions, however wide (rich would cut them at 80 columns)
    with console.capture() as captured:
        console.print(table)
    typer.echo("\n".join(line.rstrip() for line in captured.get().splitlines()))


@app.command(
    "show",
    epilog="Examples:\n\n  sal profiles show llama-3.2-1b/beam_search\n\n  sal profiles show my.toml --set sampling.n=16"
    "\n\n  sal profiles show train-cpu-demo --set train.learning_rate=1e-5",
)
def profiles_show(
    name: Annotated[Optional[str], typer.Argument(help="Profile name or TOML path (default: `cpu-demo`).")] = None,
    set_: o.SetOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (`{key: {value, source}}`).")] = False,
) -> None:
    """Show every resolved setting of a profile and where its value came from."""
    from rich.console import Console
    from rich.table import Table

    from sal_cli.config import to_dict
    from sal_cli.profiles import DEFAULT_PROFILE, kind_of, label, resolve, schema_for, source_of

    resolved = resolve(name, set_ or (), schema=schema_for(kind_of(name or DEFAULT_PROFILE)))
    rows = [
        (f"{section}.{key}", value, source_of(resolved, f"{section}.{key}"))
        for section, table in to_dict(resolved.config).items()
        for key, value in table.items()
    ]
    if as_json:
        typer.echo(json.dumps({k: {"value": v, "source": s} for k, v, s in rows}, indent=2))
        return
    chain = " -> ".join(label(p) for p in resolved.chain)
    table = Table(box=None, pad_edge=False, title=f"profile chain: {chain}", title_justify="left")
    table.add_column("setting", no_wrap=True)
    table.add_column("value", no_wrap=True, max_width=40)
    table.add_column("source", no_wrap=True)
    for key, value, source in rows:
        shown = json.dumps(value) if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
        table.add_row(key, shown if len(shown) <= 40 else shown[:37] + "...", source.strip("`"))
    Console(soft_wrap=True).print(table)
