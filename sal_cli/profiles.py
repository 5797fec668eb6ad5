"""TOML profiles: loading, `extends` chains, `--set` overrides, validation with sources.

Precedence, lowest first: built-in defaults (`config.py`) < the profile chain (base first)
< `--set section.key=value` < explicit CLI flags. Every resolved value remembers where it
came from, so errors and `sal profiles show` can name the file or flag.
"""

from __future__ import annotations

import dataclasses
import difflib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sal_cli.config import RUN_SCHEMA, ConfigValueError, Schema
from sal_cli.errors import SalError
from sal_cli.files import tomllib

DEFAULT_PROFILE = RUN_SCHEMA.default_profile
TOP_LEVEL_KEYS = ("description", "extends", "kind")
RECORDS = ("machine",)  # tables a run's `run.toml` holds as a record, not as settings: skipped on replay
# Each kind of profile and the commands that take it; a file without `kind` is a run profile.
KINDS = {"run": "`sal generate` and `sal search`", "train-prm": "`sal train-prm`"}
DEFAULT_SOURCE = "default"


def builtin_dir() -> Path:
    """Built-in profiles: packed into the wheel as `_profiles`, or the repo's `profiles/`."""
    here = Path(__file__).resolve().parent
    packed = here / "_profiles"
    return packed if packed.is_dir() else here.parent / "profiles"


@dataclass
class ProfileInfo:
    name: str
    path: Path
    description: str
    extends: str
    kind: str


@dataclass
class Resolved:
    """A validated config (the schema's root) plus, for each `section.key`, where its value came from."""

    config: Any
    sources: dict[str, str] = field(default_factory=dict)
    chain: list[Path] = field(default_factory=list)


def builtin_names() -> list[str]:
    """Built-in profile names: the file's path under `profiles/` without `.toml`
    (`cpu-demo`, `llama-3.2-1b/beam_search`)."""
    root = builtin_dir()
    return sorted(path.relative_to(root).with_suffix("").as_posix() for path in root.rglob("*.toml"))


def list_profiles() -> list[ProfileInfo]:
    infos = []
    for name in builtin_names():
        path = builtin_dir() / f"{name}.toml"
        data = _read_toml(path)
        infos.append(
            ProfileInfo(name, path, str(data.get("description", "")), str(data.get("extends", "")), _kind(_chain(path)))
        )
    return infos


def find_profile(ref: str, relative_to: Path | None = None) -> Path:
    """A profile reference is a built-in name (`qwen2.5-3b/dvts`) or a path to a `.toml` file."""
    builtin = builtin_dir() / f"{ref}.toml"
    if not ref.endswith(".toml") and ".." not in ref and builtin.is_file():
        return builtin
    if ref.endswith(".toml") or ref.startswith((".", "/", "~")) or "\\" in ref:
        path = Path(ref).expanduser()
        if not path.is_absolute() and relative_to is not None:
            path = relative_to / path
        if not path.is_file():
            raise SalError(f"profile file `{ref}` does not exist", hint="check the path, or run `sal profiles list`")
        return path
    names = builtin_names()
    close = difflib.get_close_matches(ref, names, n=1)
    hint = f"did you mean `{close[0]}`? " if close else ""
    raise SalError(f"unknown profile `{ref}`", hint=hint + "run `sal profiles list` to see the built-in profiles")


def resolve(
    profile: str | None = None,
    sets: list[str] | tuple[str, ...] = (),
    flags: dict[str, tuple[Any, str]] | None = None,
    schema: Schema = RUN_SCHEMA,
) -> Resolved:
    """Resolve a profile chain, `--set` items and flags (`{"sampling.n": (8, "--n")}`) against `schema`."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    ref = profile or schema.default_profile
    chain = _chain(find_profile(ref))
    kind = _kind(chain)
    if kind != schema.kind:
        raise SalError(
            f"profile `{ref}` is a `{kind}` profile, not a `{schema.kind}` profile",
            hint=f"use it with {KINDS[kind]}; this command takes `{schema.kind}` profiles such as "
            f"`{schema.default_profile}` (`sal profiles list` shows each profile's kind)",
        )
    for path in chain:
        for key, value in _flatten(path, schema).items():
            values[key], sources[key] = value, f"`{_display(path)}`"
    for item in sets:
        key, value = _parse_set(item)
        values[key], sources[key] = _typed(key, value, "`--set`", schema), "`--set`"
    for key, (value, flag) in (flags or {}).items():
        if value is not None:
            values[key], sources[key] = _typed(key, value, f"`{flag}`", schema), f"`{flag}`"
    return Resolved(_build(values, sources, schema), sources, chain)


def kind_of(ref: str) -> str:
    """The kind of a profile (name or path): `run` unless its chain declares another."""
    return _kind(_chain(find_profile(ref)))


def schema_for(kind: str) -> Schema:
    """The schema of a kind; the training schema is imported only when asked for."""
    if kind == "train-prm":
        from sal_cli.training.config import TRAIN_PRM_SCHEMA

        return TRAIN_PRM_SCHEMA
    return RUN_SCHEMA


def label(path: Path) -> str:
    """How to name a profile file to a user: its built-in name, else its path."""
    try:
        return path.resolve().relative_to(builtin_dir().resolve()).with_suffix("").as_posix()
    except ValueError:
        return _display(path)


def source_of(resolved: Resolved, key: str) -> str:
    return resolved.sources.get(key, DEFAULT_SOURCE)


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise SalError(f"`{_display(path)}` is not valid TOML: {exc}", hint="fix the syntax at that line") from None
    except OSError as exc:
        raise SalError(f"cannot read profile `{_display(path)}`: {exc.strerror}") from None


def _chain(path: Path) -> list[Path]:
    """The profile and its `extends` ancestors, base first."""
    chain: list[Path] = []
    while True:
        if path.resolve() in [p.resolve() for p in chain]:
            names = " -> ".join(label(p) for p in [*chain, path])
            raise SalError(f"profiles extend each other in a loop: {names}", hint="remove one `extends`")
        chain.append(path)
        parent = _read_toml(path).get("extends")
        if not parent:
            return chain[::-1]
        if not isinstance(parent, str):
            raise SalError(f"`extends` in `{_display(path)}` must be a profile name or path")
        path = find_profile(parent, relative_to=path.parent)


def _kind(chain: list[Path]) -> str:
    """The kind a chain declares with `kind = "..."` (files without one inherit it; default `run`)."""
    kind, declared_in = "run", ""
    for path in chain:
        value = _read_toml(path).get("kind")
        if value is None:
            continue
        where = f"`{_display(path)}`"
        if value not in KINDS:
            raise SalError(f"`kind` in {where} must be one of {', '.join(KINDS)}, got {value!r}")
        if declared_in and value != kind:
            raise SalError(
                f"{where} (kind `{value}`) extends {declared_in} (kind `{kind}`)",
                hint="a profile can only extend profiles of its own kind",
            )
        kind, declared_in = value, where
    return kind


def _flatten(path: Path, schema: Schema) -> dict[str, Any]:
    """`{"sampling": {"n": 4}}` -> `{"sampling.n": 4}`, checking names and types."""
    where = f"`{_display(path)}`"
    flat: dict[str, Any] = {}
    for name, table in _read_toml(path).items():
        if name in TOP_LEVEL_KEYS or name in RECORDS:
            continue
        if name not in schema.sections:
            raise _unknown(name, [*schema.sections, *TOP_LEVEL_KEYS], where)
        if not isinstance(table, dict):
            raise SalError(f"`{name}` in {where} must be a table (`[{name}]`), got a value")
        for key, value in table.items():
            full = f"{name}.{key}"
            flat[full] = _typed(full, value, where, schema)
    return flat


def _unknown(key: str, valid: list[str], where: str) -> SalError:
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
    hint = f"did you mean `{close[0]}`?" if close else f"valid keys: {', '.join(valid)}"
    return SalError(f"unknown key `{key}` in {where}", hint=hint)


def _parse_set(item: str) -> tuple[str, Any]:
    """`sampling.n=8` -> ("sampling.n", 8): the value is read as TOML, else as a plain string."""
    key, sep, raw = item.partition("=")
    key = key.strip()
    if not sep or "." not in key:
        raise SalError(f"`--set {item}` must look like `section.key=value`", hint="e.g. `--set sampling.n=8`")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key, value


def _typed(full_key: str, value: Any, where: str, schema: Schema) -> Any:
    """Check that `section.key` exists and `value` has its type; ints widen to floats."""
    section, _, key = full_key.partition(".")
    if section not in schema.sections:
        raise _unknown(section, list(schema.sections), where)
    fields = [f.name for f in dataclasses.fields(schema.sections[section])]
    if key not in fields:
        raise _unknown(full_key, [f"{section}.{k}" for k in fields], where)
    expected = typing.get_type_hints(schema.sections[section])[key]
    if typing.get_origin(expected) is list:
        (item_type,) = typing.get_args(expected)
        if isinstance(value, list):
            try:
                return [_coerce(item, item_type) for item in value]
            except TypeError:
                pass
    else:
        try:
            return _coerce(value, expected)
        except TypeError:
            pass
    raise SalError(
        f"`{full_key}` in {where} must be {_type_name(expected)}, got {_type_name(type(value))} `{value!r}`",
        hint=f"e.g. {full_key.partition('.')[2]} = {_example(expected)}",
    )


def _coerce(value: Any, expected: type) -> Any:
    """`value` as `expected` (ints widen to floats); TypeError when it is not one."""
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if type(value) is not expected:
        raise TypeError
    return value


def _type_name(kind: Any) -> str:
    if typing.get_origin(kind) is list:
        return f"a list of {_type_name(typing.get_args(kind)[0]).removeprefix('a ').removeprefix('an ')}s"
    return {bool: "true/false", int: "an integer", float: "a number", str: "a string", list: "a list"}.get(
        kind, getattr(kind, "__name__", str(kind))
    )


def _example(kind: Any) -> str:
    if typing.get_origin(kind) is list:
        return f"[{_example(typing.get_args(kind)[0])}, {_example(typing.get_args(kind)[0])}]"
    return {bool: "true", int: "4", float: "0.8", str: '"text"'}.get(kind, "...")


def _build(values: dict[str, Any], sources: dict[str, str], schema: Schema) -> Any:
    sections = {}
    for name, cls in schema.sections.items():
        kwargs = {k.partition(".")[2]: v for k, v in values.items() if k.partition(".")[0] == name}
        try:
            sections[name] = cls(**kwargs)
        except ConfigValueError as exc:
            full = f"{name}.{exc.key}"
            shown = values.get(full, getattr(cls(), exc.key, None))
            where = sources.get(full, DEFAULT_SOURCE)
            raise SalError(f"`{full}` ({shown!r}) {exc} (set in {where})") from None
    return schema.root(**sections)
