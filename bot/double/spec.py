"""Loading the vendored Bot API spec and validating requests against it.

The spec (bot/double/data/telegram-bot-api.json) lists every method and type with its fields.
:func:`validate_params` turns the raw request parameters (form strings, multipart files or
native JSON values) into typed Python values, raising :class:`ApiError` with Telegram-like
wording for unknown parameters, missing required ones and values of the wrong type.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SPEC_PATH = Path(__file__).resolve().parent / "data" / "telegram-bot-api.json"

_BASIC = frozenset({"Integer", "String", "Boolean", "Float", "InputFile"})
_INT_RE = re.compile(r"^[+-]?\d+$")
_DISCRIMINATOR_RE = re.compile(r"must be \*?([A-Za-z_]+)\*?")


class ApiError(Exception):
    """A Bot API error answer: HTTP status, description and optional parameters."""

    def __init__(
        self,
        status: int,
        description: str,
        *,
        parameters: dict[str, Any] | None = None,
        violation: bool = True,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters
        # whether the error counts as a bot mistake (recorded in double.violations)
        self.violation = violation

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters is not None:
            body["parameters"] = self.parameters
        return body


def bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclass(frozen=True)
class FieldSpec:
    name: str
    types: tuple[str, ...]
    required: bool
    description: str


@dataclass(frozen=True)
class MethodSpec:
    name: str
    fields: dict[str, FieldSpec]
    returns: tuple[str, ...]


@dataclass(frozen=True)
class TypeSpec:
    name: str
    fields: dict[str, FieldSpec] | None  # None: opaque type (InputFile, CallbackGame, ...)
    subtypes: tuple[str, ...]
    discriminator: str | None  # value of the "type" field for concrete subtypes


@dataclass(frozen=True)
class Spec:
    version: str
    methods: dict[str, MethodSpec]
    types: dict[str, TypeSpec]
    _lower: dict[str, str]

    def method(self, name: str) -> MethodSpec | None:
        """Look a method up the way Telegram does: case-insensitively."""
        canonical = self._lower.get(name.lower())
        return None if canonical is None else self.methods[canonical]


def _fields(raw: Any) -> dict[str, FieldSpec]:
    out: dict[str, FieldSpec] = {}
    for f in raw:
        out[f["name"]] = FieldSpec(
            name=f["name"],
            types=tuple(f["types"]),
            required=bool(f["required"]),
            description=str(f.get("description", "")),
        )
    return out


def _discriminator(fields: dict[str, FieldSpec] | None) -> str | None:
    if not fields or "type" not in fields:
        return None
    m = _DISCRIMINATOR_RE.search(fields["type"].description)
    return m.group(1) if m else None


@functools.cache
def load_spec(path: Path = SPEC_PATH) -> Spec:
    """Load (once) and index the vendored spec."""
    data = json.loads(path.read_text(encoding="utf-8"))
    methods = {
        name: MethodSpec(
            name=name, fields=_fields(m.get("fields", [])), returns=tuple(m.get("returns", []))
        )
        for name, m in data["methods"].items()
    }
    types: dict[str, TypeSpec] = {}
    for name, t in data["types"].items():
        fields = _fields(t["fields"]) if "fields" in t else None
        types[name] = TypeSpec(
            name=name,
            fields=fields,
            subtypes=tuple(t.get("subtypes", [])),
            discriminator=_discriminator(fields),
        )
    return Spec(
        version=str(data["version"]),
        methods=methods,
        types=types,
        _lower={n.lower(): n for n in methods},
    )


@dataclass(frozen=True)
class InputFileValue:
    """A file uploaded in a multipart/form-data request."""

    filename: str
    content: bytes
    content_type: str | None = None


class _Invalid(Exception):
    """Internal: a value does not match the expected type (message is the reason)."""


def _type_label(types: tuple[str, ...]) -> str:
    return " or ".join(types)


class _Checker:
    def __init__(self, spec: Spec, files: Mapping[str, InputFileValue]) -> None:
        self.spec = spec
        self.files = files
        self.attached: set[str] = set()

    def check(self, value: Any, types: tuple[str, ...], path: str) -> Any:
        """Check a native JSON value against alternatives; return the value."""
        if len(types) == 1:
            return self.check_one(value, types[0], path)
        errors: list[tuple[int, _Invalid]] = []
        for t in types:
            try:
                return self.check_one(value, t, path)
            except _Invalid as exc:
                errors.append((self._affinity(value, t), exc))
        best = max(errors, key=lambda e: e[0])
        if best[0] > 0:
            raise best[1]
        raise _Invalid(f'field "{path}" must be of type {_type_label(types)}')

    def _affinity(self, value: Any, type_name: str) -> int:
        """How plausibly `value` was meant to be of object type `type_name`."""
        if not isinstance(value, dict):
            return 0
        if type_name.startswith("Array of "):
            return 0
        t = self.spec.types.get(type_name)
        if t is None or t.fields is None:
            return 0
        return sum(1 for k in value if k in t.fields)

    def check_one(self, value: Any, type_name: str, path: str) -> Any:
        if type_name.startswith("Array of "):
            inner = type_name[len("Array of ") :]
            if not isinstance(value, list):
                raise _Invalid(f'field "{path}" must be an Array')
            return [self.check_one(v, inner, f"{path}[{i}]") for i, v in enumerate(value)]
        if type_name == "Integer":
            if isinstance(value, bool) or not isinstance(value, int):
                raise _Invalid(f'field "{path}" must be of type Integer')
            return value
        if type_name == "Float":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _Invalid(f'field "{path}" must be of type Float')
            return value
        if type_name == "Boolean":
            if not isinstance(value, bool):
                raise _Invalid(f'field "{path}" must be of type Boolean')
            return value
        if type_name == "String":
            if not isinstance(value, str):
                raise _Invalid(f'field "{path}" must be of type String')
            return value
        if type_name == "InputFile":
            if isinstance(value, InputFileValue):
                return value
            if isinstance(value, str) and value.startswith("attach://"):
                name = value[len("attach://") :]
                if name not in self.files:
                    raise _Invalid(f'can\'t find attached file "{name}" for field "{path}"')
                self.attached.add(name)
                return self.files[name]
            raise _Invalid(f'field "{path}" must be a file')
        t = self.spec.types.get(type_name)
        if t is None:
            raise _Invalid(f'field "{path}" has unknown type {type_name}')
        return self._check_object(value, t, path)

    def _check_object(self, value: Any, t: TypeSpec, path: str) -> Any:
        if t.subtypes:
            if isinstance(value, dict) and "type" in value:
                for sub in t.subtypes:
                    st = self.spec.types.get(sub)
                    if st is not None and st.discriminator == value["type"]:
                        return self._check_object(value, st, path)
            return self.check(value, t.subtypes, path)
        if not isinstance(value, dict):
            raise _Invalid(f'field "{path}" must be an Object of type {t.name}')
        if t.fields is None:
            return value
        for key in value:
            if key not in t.fields:
                raise _Invalid(f'can\'t parse {t.name}: unknown field "{path}.{key}"')
        for f in t.fields.values():
            if f.name not in value:
                if f.required:
                    raise _Invalid(f'can\'t parse {t.name}: field "{path}.{f.name}" is required')
                continue
            self.check(value[f.name], f.types, f"{path}.{f.name}")
        if t.discriminator is not None and value.get("type") != t.discriminator:
            raise _Invalid(f'field "{path}.type" must be "{t.discriminator}"')
        return value

    def from_string(self, raw: str, f: FieldSpec) -> Any:
        """Convert a form-encoded string into a value of one of the field's types."""
        non_string = [t for t in f.types if t != "String"]
        if "InputFile" in f.types and raw.startswith("attach://"):
            return self.check_one(raw, "InputFile", f.name)
        for t in non_string:
            if t == "Integer" and _INT_RE.match(raw.strip()):
                return int(raw)
            if t == "Float":
                try:
                    return float(raw)
                except ValueError:
                    continue
            if t == "Boolean" and raw.strip().lower() in {"true", "false", "1", "0"}:
                return raw.strip().lower() in {"true", "1"}
        if "String" in f.types:
            return raw
        structured = tuple(t for t in non_string if t not in _BASIC)
        if not structured:
            raise _Invalid(f'parameter "{f.name}" must be of type {_type_label(f.types)}')
        try:
            decoded = json.loads(raw)
        except ValueError:
            raise _Invalid(f"can't parse {f.name} JSON object") from None
        return self.check(decoded, structured, f.name)


def validate_params(
    method: MethodSpec,
    raw: Mapping[str, Any],
    files: Mapping[str, InputFileValue] | None = None,
) -> dict[str, Any]:
    """Validate one request's parameters; return them converted to Python values.

    ``raw`` holds form strings or native JSON values; ``files`` the multipart file parts
    (keyed by part name: either a parameter name or an ``attach://`` target).
    """
    spec = load_spec()
    files = files or {}
    checker = _Checker(spec, files)
    params: dict[str, Any] = {}
    try:
        for name, value in raw.items():
            f = method.fields.get(name)
            if f is None:
                raise bad_request(f"unknown parameter {name}")
            if isinstance(value, str):
                params[name] = checker.from_string(value, f)
            else:
                params[name] = checker.check(value, f.types, name)
        for name, upload in files.items():
            if name in method.fields:
                f = method.fields[name]
                if "InputFile" not in f.types:
                    raise _Invalid(f'parameter "{name}" must be of type {_type_label(f.types)}')
                params[name] = upload
        for name in files:
            if name not in method.fields and name not in checker.attached:
                raise bad_request(f"unknown parameter {name}")
        for f in method.fields.values():
            if f.required and f.name not in params:
                raise bad_request(f"parameter {f.name} is required")
    except _Invalid as exc:
        raise bad_request(str(exc)) from None
    return params
