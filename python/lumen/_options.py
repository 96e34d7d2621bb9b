"""Options structs from keyword arguments.

lumen's options are C++ structs bound as Python classes with one attribute per field. A
reconstruction takes them as keyword arguments: ``reconstruct(scan, method="sirt", iterations=20)``.
A nested struct takes a dict (``fdk={"window": "hann"}``) or an instance. An unknown name is a
TypeError listing the known ones; a value out of range is lumen's InvalidOptionError naming the
field (raised when the reconstruction validates its options).
"""

from __future__ import annotations

from typing import Any, Dict, Optional


def fields(cls) -> list:
    """The option fields of a bound options class (its public data attributes)."""
    out = []
    for name in dir(cls):
        if name.startswith("_"):
            continue
        attr = getattr(cls, name)
        if callable(attr) and not isinstance(attr, property) and type(attr).__name__ != "nb_property":
            continue
        out.append(name)
    return out


def build(cls, options: Optional[Dict[str, Any]] = None, base=None):
    """An instance of ``cls`` (or ``base`` updated in place) with ``options`` set."""
    target = cls() if base is None else base
    for name, value in (options or {}).items():
        if name.startswith("_") or not hasattr(target, name) or callable(getattr(target, name)):
            known = ", ".join(fields(cls))
            raise TypeError(f"{cls.__name__}: unknown option {name!r} (known: {known})")
        if isinstance(value, dict):
            build(type(getattr(target, name)), value, getattr(target, name))
        else:
            setattr(target, name, value)
    return target


def as_dict(obj) -> Dict[str, Any]:
    """The fields of an options instance as a dict (nested structs as dicts)."""
    out = {}
    for name in fields(type(obj)):
        value = getattr(obj, name)
        if hasattr(type(value), "__module__") and type(value).__module__.startswith("lumen"):
            value = as_dict(value)
        out[name] = value
    return out
