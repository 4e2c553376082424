"""What JSON text cannot carry or the stores cannot keep, found before anything is stored."""

from __future__ import annotations

import math

MAX_DEPTH = 32


def unstorable(value: object, max_depth: int | None = MAX_DEPTH) -> tuple[str, str] | None:
    """The first place (as `.key[0]...`, in document order) holding what JSON text cannot carry
    or the stores cannot keep, and why: NaN or an infinity, a lone surrogate (a JSON escape
    gives one), a non-string key, nesting deeper than MAX_DEPTH. None when all is well."""
    stack: list[tuple[str, object, int]] = [("", value, 0)]
    while stack:  # not recursive: a value may be nested as deep as json.loads allows
        path, item, depth = stack.pop()
        if max_depth is not None and depth > max_depth:
            return path, f"nested deeper than {max_depth} levels"
        if isinstance(item, dict):
            inner = []
            for key, child in item.items():
                name = f"{path}.{_printable(key)}"
                if not isinstance(key, str):
                    return name, f"a key must be a string, not {json_type(key)}"
                problem = lone_surrogate(key)
                if problem is not None:
                    return name, problem
                inner.append((name, child, depth + 1))
            stack.extend(reversed(inner))
        elif isinstance(item, list | tuple):
            stack.extend(reversed([(f"{path}[{i}]", c, depth + 1) for i, c in enumerate(item)]))
        elif isinstance(item, float):
            if not math.isfinite(item):
                return path, f"{item} is not a number in JSON (RFC 8259)"
        elif isinstance(item, str):
            problem = lone_surrogate(item)
            if problem is not None:
                return path, problem
        elif item is not None and not isinstance(item, int):  # bool is an int
            return path, f"not a JSON value: {type(item).__name__}"
    return None


def lone_surrogate(value: str) -> str | None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        return (
            f"U+{ord(value[exc.start]):04X} at character {exc.start} is a lone surrogate, "
            "not text that can be stored"
        )
    return None


def _printable(key: object) -> str:
    """A key as it can appear in a field name (a lone surrogate as its escape)."""
    return str(key).encode("utf-8", "backslashreplace").decode("utf-8")


def json_type(value: object) -> str:
    """How to name a JSON value's type in a refusal."""
    match value:
        case None:
            return "null"
        case bool():
            return "a boolean"
        case int() | float():
            return "a number"
        case str():
            return "a string"
        case list():
            return "an array"
        case dict():
            return "an object"
    return type(value).__name__
