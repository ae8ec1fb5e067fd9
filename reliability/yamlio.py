"""YAML in with line numbers, YAML out byte-for-byte deterministic.

Loading keeps the line of every mapping key and list item so that problems
can be reported as `FILE:LINE`, and it reports duplicate keys, which PyYAML
would otherwise silently resolve to the last one.

Dumping is a small emitter for the plain data we generate (mappings, lists,
strings, numbers): block style, keys in the order the generator built them,
multi-line strings as literal blocks, so rule files read like hand-written
ones and a second run is byte-identical.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

import orjson
import yaml

from .problems import Location, Problems

_BaseLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YMap(dict):  # type: ignore[type-arg]
    """A mapping that remembers the line of itself and of each key."""

    __slots__ = ("duplicates", "key_lines", "line")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.line = 0
        self.key_lines: dict[Any, int] = {}
        self.duplicates: list[tuple[str, int]] = []  # keys given twice, reported by the spec checks


class YList(list):  # type: ignore[type-arg]
    """A list that remembers the line of itself and of each item."""

    __slots__ = ("item_lines", "line")

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.line = 0
        self.item_lines: list[int] = []


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    pass


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> YMap:
    loader.flatten_mapping(node)
    result = YMap()
    result.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            key = str(key) if not isinstance(key, (dict, list)) else json.dumps(key)
        line = key_node.start_mark.line + 1
        if key in result:
            result.duplicates.append((key, line))
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = line
    return result


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> YList:
    result = YList()
    result.line = node.start_mark.line + 1
    for item in node.value:
        result.append(loader.construct_object(item, deep=True))
        result.item_lines.append(item.start_mark.line + 1)
    return result


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:omap", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)
# Dates stay text: specs compare and print them, and JSON Schema knows no datetime.
_Loader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))


@dataclass(frozen=True)
class Document:
    """One YAML document of a file (or one item of a top-level list of objects)."""

    file: str
    index: int
    line: int
    data: Any


def line_of(container: Any, key: str | int | None = None, default: int = 1) -> int:
    """The line of `container[key]` (or of the container itself) if known."""
    if key is not None:
        if isinstance(container, YMap) and key in container.key_lines:
            return container.key_lines[key]
        if isinstance(container, YList) and isinstance(key, int) and 0 <= key < len(container.item_lines):
            return container.item_lines[key]
    line = getattr(container, "line", 0)
    return line or default


def line_at(root: Any, path: tuple[str | int, ...] | list[str | int]) -> int:
    """The line of the deepest existing element along `path` under `root`."""
    node = root
    line = line_of(root)
    for part in path:
        try:
            child = node[part]
        except (KeyError, IndexError, TypeError):
            break
        line = line_of(node, part, line)
        node = child
    return line


def load_documents(text: str, file: str, problems: Problems, split_lists: bool = False) -> list[Document]:
    """Parse every YAML document of `text`; syntax errors become problems.

    With `split_lists`, a document that is a list of mappings (as OpenSLO
    tooling writes them) is split into one Document per item.
    """
    loader = _Loader(text)
    docs: list[Document] = []
    try:
        index = 0
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            data = loader.construct_document(node)
            line = node.start_mark.line + 1
            if split_lists and isinstance(data, YList) and data and all(isinstance(d, YMap) for d in data):
                for item, item_line in zip(data, data.item_lines, strict=True):
                    docs.append(Document(file, index, item_line, item))
                    index += 1
            else:
                docs.append(Document(file, index, line, data))
                index += 1
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        what = exc.problem or str(exc)
        if exc.context and exc.context_mark and exc.context_mark.line + 1 != line:
            what += f" ({exc.context} that starts at line {exc.context_mark.line + 1})"
        problems.add(Location(file, line), None, None, f"YAML syntax error: {what}")
        return []
    except yaml.YAMLError as exc:  # reader errors (bad encoding, control characters)
        problems.add(Location(file, 1), None, None, f"YAML error: {exc}")
        return []
    finally:
        loader.dispose()
    return docs


# ---------------------------------------------------------------- emitter

_INDICATORS = "-?:,[]{}#&*!|>'\"%@`"
_resolver = yaml.resolver.Resolver()


@lru_cache(maxsize=1 << 16)
def _plain_ok(text: str) -> bool:
    """Whether `text` reads back as the same string when written without quotes."""
    if not text or text != text.strip() or not text.isprintable():
        return False
    if text[0] in _INDICATORS or ": " in text or " #" in text or text.endswith(":"):
        return False
    tag = _resolver.resolve(yaml.ScalarNode, text, (True, False))
    return tag == "tag:yaml.org,2002:str"


def _quoted(text: str) -> str:
    if text.isprintable() and "\n" not in text:
        return "'" + text.replace("'", "''") + "'"
    return json.dumps(text, ensure_ascii=False)


@lru_cache(maxsize=1 << 16)
def _string(text: str) -> str:
    return text if _plain_ok(text) else _quoted(text)


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return _string(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ValueError("refusing to emit a non-finite number")
        return repr(value)
    raise TypeError(f"cannot emit {type(value).__name__}")


def _literal_ok(text: str) -> bool:
    return (
        "\n" in text.strip("\n")
        and not text.startswith((" ", "\n"))
        and not text.endswith("\n\n")
        and "\t" not in text
        and "\r" not in text
        and all(line == line.rstrip() for line in text.split("\n"))
    )


def _child(value: Any, indent: int, out: list[str]) -> None:
    """Write `value` after a `key:` or `-` already in `out`."""
    kind = type(value)
    if kind is str:
        if "\n" in value and _literal_ok(value):
            chomp = "" if value.endswith("\n") else "-"
            pad = " " * (indent + 2)
            out.append(f" |{chomp}\n")
            body = value[:-1] if value.endswith("\n") else value
            out.extend(f"{pad}{line}\n" if line else "\n" for line in body.split("\n"))
        else:
            out.append(f" {_string(value)}\n")
    elif kind is dict or kind is list or isinstance(value, (dict, list)):
        if value:
            out.append("\n")
            _block(value, indent + 2, out)
        else:
            out.append(" {}\n" if isinstance(value, dict) else " []\n")
    else:
        out.append(f" {_scalar(value)}\n")


@lru_cache(maxsize=1 << 12)
def _key(key: Any) -> str:
    return _string(str(key))


def _block(value: Any, indent: int, out: list[str]) -> None:
    """A non-empty mapping or list, each entry on its own line at `indent`.

    A one-line string or a scalar is written with its key in one piece: most entries are
    those, and a 1,000-SLO compile writes some 600,000 of them.
    """
    pad = " " * indent
    append = out.append
    if isinstance(value, dict):
        for key, item in value.items():
            kind = type(item)
            if kind is str and "\n" not in item:
                append(f"{pad}{_key(key)}: {_string(item)}\n")
            elif kind is int or kind is bool or item is None:
                append(f"{pad}{_key(key)}: {_scalar(item)}\n")
            else:
                append(f"{pad}{_key(key)}:")
                _child(item, indent, out)
        return
    for item in value:
        if isinstance(item, dict) and item:
            first = True
            for key, sub in item.items():
                lead = f"{pad}- " if first else f"{pad}  "
                first = False
                kind = type(sub)
                if kind is str and "\n" not in sub:
                    append(f"{lead}{_key(key)}: {_string(sub)}\n")
                else:
                    append(f"{lead}{_key(key)}:")
                    _child(sub, indent + 2, out)
        elif type(item) is str and "\n" not in item:
            append(f"{pad}- {_string(item)}\n")
        else:
            append(f"{pad}-")
            _child(item, indent, out)


def dump(value: Any, header: str = "") -> str:
    """Emit `value` (a mapping) as block-style YAML."""
    if not isinstance(value, dict):
        raise TypeError("top-level value must be a mapping")
    out: list[str] = [header] if header else []
    if value:
        _block(value, 0, out)
    return "".join(out)


_LINE_START = re.compile(r"^(?=.)", re.MULTILINE)  # the start of every line that is not empty


def nest(key: str, text: str) -> str:
    """`key:` holding a mapping already emitted by `dump` (what `dump({key: value})` writes, without
    emitting `value` twice: a PrometheusRule wraps the very rule groups of a rule file)."""
    if not text:
        return f"{_key(key)}: {{}}\n"
    # Indentation is all that differs; the emitter writes no line of spaces alone (empty lines stay empty).
    return f"{_key(key)}:\n" + _LINE_START.sub("  ", text)


def dump_all(values: list[Any], header: str = "") -> str:
    """Several mappings as one multi-document YAML file (`---` between documents)."""
    return header + "---\n".join(dump(value) for value in values)


# orjson, not the standard library: `json` only runs its C encoder without indent, and a
# 1,000-SLO compile indents 24 MB of dashboards. Same text as `json.dumps(..., sort_keys=True,
# ensure_ascii=False)` except floats below 1e-4, which it writes as 0.00001 (json: 1e-05).
_JSON_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS | orjson.OPT_APPEND_NEWLINE


def dump_json(value: Any) -> str:
    """Deterministic JSON for people: sorted keys, two-space indent, trailing newline."""
    return orjson.dumps(value, default=_json_default, option=_JSON_OPTIONS | orjson.OPT_INDENT_2).decode()


def dump_json_compact(value: Any) -> str:
    """Deterministic JSON on one line, for machines."""
    return orjson.dumps(value, default=_json_default, option=_JSON_OPTIONS).decode()


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


@lru_cache(maxsize=4096)
def format_decimal(value: Decimal) -> str:
    """Plain notation without exponent or trailing zeros: 0.999, 14.4, 1."""
    text = format(value.normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def iter_yaml_files(paths: list[str]) -> Iterator[str]:
    """Files named on the command line, and *.yaml/*.yml/*.json under folders, sorted.

    Paths are normalised (`./specs/` and `specs` give `specs/x.yaml`, still relative as
    given), so messages and the generated files' headers do not depend on the spelling.
    """
    import os

    for path in map(os.path.normpath, paths):
        if os.path.isdir(path):
            found = []
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in files:
                    if name.endswith((".yaml", ".yml", ".json")) and not name.startswith("."):
                        found.append(os.path.join(root, name))
            yield from sorted(found)
        else:
            yield path
