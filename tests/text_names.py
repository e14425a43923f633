"""Which text names the code uses: an ast scan for tests/test_texts.py.

A text is named by the argument of a *text function*: bot.core.texts' text() and plain()
(second argument), terminal() and the TerminalError classes (first), and every function
or method that hands one of its parameters on as such a name (Who.text, a button helper,
`_help(name)` → terminal(f"help_{name}")), found by the scan itself. A name argument is
followed through constants, `a if c else b`, `a or b`, module-level tables (`TABLE[key]`),
local assignments and loops over literal tuples, and the return values of the module's
own functions. An f-string name is looked up by its pattern ("state_{}") in a table the
caller gives; anything else is reported with its file:line, never skipped.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

TEXTS = "bot.core.texts"
MESSAGES, CLI = "messages", "cli"
# (module, name) → (kind, position of the name argument)
SEEDS = {
    (TEXTS, "text"): (MESSAGES, 1),
    (TEXTS, "plain"): (MESSAGES, 1),
    (TEXTS, "terminal"): (CLI, 0),
    (TEXTS, "TerminalError"): (CLI, 0),
}
DEPTH = 12  # how far a name is followed through variables and calls


@dataclass(frozen=True)
class TextFunction:
    """A callable whose argument ``position`` (or ``keyword``) names a text of ``kind``,
    built as ``template`` says ("help_{}")."""

    kind: str
    position: int
    keyword: str | None = None
    template: str = "{}"


@dataclass(frozen=True)
class Use:
    kind: str
    name: str
    where: str  # path:line


@dataclass(frozen=True)
class Param:
    """The name is a parameter of ``function``: the function is a text function too."""

    function: ast.FunctionDef | ast.AsyncFunctionDef
    name: str
    template: str = "{}"


class Unresolved(Exception):
    """The scan cannot tell which text an argument names."""


@dataclass
class Module:
    name: str
    path: str
    tree: ast.Module
    imports: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # as → (mod, attr)
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = field(default_factory=dict)
    bindings: dict[str, list[ast.expr]] = field(default_factory=dict)  # module-level names


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def load(root: Path, folders: Sequence[str]) -> list[Module]:
    return [
        parse(_module_name(path, root), str(path.relative_to(root)), path.read_text("utf-8"))
        for folder in folders
        for path in sorted((root / folder).rglob("*.py"))
    ]


def parse(name: str, path: str, source: str) -> Module:
    module = Module(name, path, ast.parse(source, path))
    package = name if path.endswith("__init__.py") else name.rpartition(".")[0]
    for node in module.tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                module.imports[alias.asname or alias.name] = (alias.name, None)
        elif isinstance(node, ast.ImportFrom):
            source_module = node.module or ""
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                source_module = f"{base}.{source_module}" if node.module else base
            for alias in node.names:
                module.imports[alias.asname or alias.name] = (source_module, alias.name)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            module.functions[node.name] = node
        elif isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    module.bindings.setdefault(target.id, []).append(node.value)
    return module


def _params(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    args = function.args
    return [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]


def _assigned(scope: ast.AST, name: str) -> list[ast.expr] | None:
    """What the body of ``scope`` (nested functions left out) binds ``name`` to; None when
    it does not bind it. A loop binds an element of what it runs over, written as a
    subscript: `for a, b in rows` binds b to `rows[_][1]`."""
    found: list[ast.expr] | None = None
    for node in _own_nodes(scope):
        values: list[ast.expr] = []
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                values = [node.value]
        elif isinstance(node, ast.For | ast.comprehension):
            values = _loop_element(node.target, node.iter, name)
        elif isinstance(node, ast.NamedExpr) and node.target.id == name:
            values = [node.value]
        if values:
            found = (found or []) + values
    return found


def _loop_element(target: ast.expr, iterable: ast.expr, name: str) -> list[ast.expr]:
    element = ast.Subscript(value=iterable, slice=ast.Name(id="_"), ctx=ast.Load())
    if isinstance(target, ast.Name) and target.id == name:
        return [element]
    if isinstance(target, ast.Tuple):
        ids = [t.id if isinstance(t, ast.Name) else "" for t in target.elts]
        if name in ids:
            column = ast.Constant(value=ids.index(name))
            return [ast.Subscript(value=element, slice=column, ctx=ast.Load())]
    return []


def _own_nodes(scope: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a function's (or module's) body, nested functions and classes left out."""
    todo = list(ast.iter_child_nodes(scope))
    while todo:
        node = todo.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        yield node
        todo.extend(ast.iter_child_nodes(node))


class Scan:
    """The names used by ``modules``; ``computed`` maps an f-string's pattern to its values,
    ``returned`` a method (by name) that returns a text name to every name it returns."""

    def __init__(
        self,
        modules: Iterable[Module],
        computed: Mapping[str, Sequence[str]],
        returned: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.modules = {m.name: m for m in modules}
        self.computed = computed
        self.returned = returned or {}
        self.functions: dict[tuple[str, str], TextFunction] = {
            key: TextFunction(kind, position) for key, (kind, position) in SEEDS.items()
        }
        self.methods: dict[str, TextFunction] = {}
        self.uses: set[Use] = set()
        self.errors: dict[str, str] = {}  # where → why
        self.patterns_seen: set[str] = set()
        self._home: dict[ast.AST, Module] = {}  # each function → its module
        self._in_class: set[ast.AST] = set()  # the functions that are methods
        for module in self.modules.values():
            for node in ast.walk(module.tree):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    self._home[node] = module
                elif isinstance(node, ast.ClassDef):
                    self._in_class.update(node.body)
        self._run()

    # --- finding the text functions --------------------------------------------------

    def _run(self) -> None:
        known = -1
        while known != len(self.functions) + len(self.methods):  # until no new wrapper
            known = len(self.functions) + len(self.methods)
            self.uses, self.errors = set(), {}
            for module in self.modules.values():
                if module.name != TEXTS:
                    self._classes(module)
                    self._calls(module, module.tree, [])

    def _lookup(self, module: Module, name: str, depth: int = 0) -> tuple[str, str] | None:
        """The (module, name) a name of ``module`` refers to, through imports."""
        if (module.name, name) in self.functions or name in module.functions:
            return module.name, name
        if name in module.imports and depth < DEPTH:
            source, attr = module.imports[name]
            if attr is None:
                return None
            other = self.modules.get(source)
            return self._lookup(other, attr, depth + 1) if other else (source, attr)
        return None

    def _module_of(self, module: Module, node: ast.expr) -> str | None:
        """The project or library module an expression like `texts` or `bot.core.texts`
        stands for, if it is one."""
        if isinstance(node, ast.Name) and node.id in module.imports:
            source, attr = module.imports[node.id]
            dotted = source if attr is None else f"{source}.{attr}"
            return dotted if attr is None or dotted in self.modules or dotted == TEXTS else None
        dotted = ast.unparse(node)
        return dotted if dotted in self.modules else None

    def _callee(self, module: Module, func: ast.expr) -> TextFunction | None:
        if isinstance(func, ast.Name):
            key = self._lookup(module, func.id)
            return self.functions.get(key) if key else None
        if isinstance(func, ast.Attribute):
            owner = self._module_of(module, func.value)
            if owner is None:
                return self.methods.get(func.attr)
            other = self.modules.get(owner)
            key = self._lookup(other, func.attr) if other else (owner, func.attr)
            return self.functions.get(key) if key else None
        return None

    def _classes(self, module: Module) -> None:
        """Subclasses of the text classes (RosterError(TerminalError)) are text classes."""
        for node in module.tree.body:
            if isinstance(node, ast.ClassDef):
                for base in node.bases:
                    found = self._callee(module, base)
                    if found is not None and found.kind == CLI:
                        self.functions[(module.name, node.name)] = found

    def _calls(self, module: Module, node: ast.AST, scopes: list[ast.AST]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                self._calls(module, child, [*scopes, child])
                continue
            if isinstance(child, ast.Call):
                self._call(module, child, [module.tree, *scopes])
            self._calls(module, child, scopes)

    def _call(self, module: Module, call: ast.Call, scopes: list[ast.AST]) -> None:
        function = self._callee(module, call.func)
        if function is None:
            return
        argument = self._argument(call, function)
        if argument is None:
            return
        where = f"{module.path}:{call.lineno}"
        try:
            found = self._values(module, argument, scopes, 0)
        except Unresolved as exc:
            self.errors[where] = (
                f"`{ast.unparse(argument)}` names a text the scan cannot follow ({exc})"
            )
            return
        for value in found:
            if isinstance(value, Param):
                self._wrapper(value, function)
            else:
                self.uses.add(Use(function.kind, function.template.format(value), where))

    @staticmethod
    def _argument(call: ast.Call, function: TextFunction) -> ast.expr | None:
        for keyword in call.keywords:
            if keyword.arg is not None and keyword.arg == function.keyword:
                return keyword.value
        positional = call.args[: function.position + 1]
        if any(isinstance(a, ast.Starred) for a in positional):
            return None
        return call.args[function.position] if len(call.args) > function.position else None

    def _wrapper(self, param: Param, calls: TextFunction) -> None:
        """A function that hands its parameter on as a text name is a text function."""
        method = param.function in self._in_class
        position = _params(param.function).index(param.name) - (1 if method else 0)
        template = calls.template.format(param.template)
        positional_only = param.name in (a.arg for a in param.function.args.posonlyargs)
        keyword = None if positional_only else param.name
        made = TextFunction(calls.kind, position, keyword, template)
        if method:
            self.methods[param.function.name] = made
        else:
            self.functions[(self._home[param.function].name, param.function.name)] = made

    # --- following a name argument ---------------------------------------------------

    def _values(
        self, module: Module, node: ast.expr, scopes: list[ast.AST], depth: int
    ) -> list[str | Param]:
        if depth > DEPTH:
            raise Unresolved("followed too far")
        deeper = depth + 1
        match node:
            case ast.Constant(value=str() as value):
                return [value]
            case ast.Constant(value=None):
                return []
            case ast.IfExp(body=body, orelse=orelse):
                return self._values(module, body, scopes, deeper) + self._values(
                    module, orelse, scopes, deeper
                )
            case ast.BoolOp(values=values):
                return [v for each in values for v in self._values(module, each, scopes, deeper)]
            case ast.JoinedStr():
                return self._pattern(module, node, scopes, deeper)
            case ast.Subscript():
                return [
                    v
                    for item, outer in self._items(module, node, scopes, deeper)
                    for v in self._values(module, item, outer, deeper)
                ]
            case ast.Name(id=name):
                return self._name(module, name, scopes, deeper)
            case ast.Call(func=ast.Name(id=name)) if name in module.functions:
                return self._returns(module, module.functions[name], deeper)
            case ast.Call(func=ast.Attribute(attr=attr)) if attr in self.returned:
                return list(self.returned[attr])
        raise Unresolved(type(node).__name__)

    def _name(
        self, module: Module, name: str, scopes: list[ast.AST], depth: int
    ) -> list[str | Param]:
        found = self._binding(module, name, scopes)
        if isinstance(found, Param):
            return [found]
        bound, outer = found
        return [v for each in bound for v in self._values(module, each, outer, depth)]

    def _binding(
        self, module: Module, name: str, scopes: list[ast.AST]
    ) -> Param | tuple[list[ast.expr], list[ast.AST]]:
        """The parameter ``name`` is, or what it is bound to (and in which scopes)."""
        for index in range(len(scopes) - 1, -1, -1):
            scope = scopes[index]
            if isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef) and name in _params(scope):
                return Param(scope, name)
            bound = _assigned(scope, name) if index else module.bindings.get(name)
            if bound is not None:
                return bound, scopes[: index + 1]
        raise Unresolved(f"where `{name}` comes from")

    def _items(
        self, module: Module, node: ast.Subscript, scopes: list[ast.AST], depth: int
    ) -> list[tuple[ast.expr, list[ast.AST]]]:
        """What ``table[key]`` can be: the matching entries of the literal tables that
        ``table`` can be (all of them unless the key is a constant)."""
        key = node.slice.value if isinstance(node.slice, ast.Constant) else None
        items: list[tuple[ast.expr, list[ast.AST]]] = []
        for table, outer in self._tables(module, node.value, scopes, depth + 1):
            if isinstance(table, ast.Dict):
                pairs = [(k, v) for k, v in zip(table.keys, table.values, strict=True) if k]
                chosen = [v for k, v in pairs if isinstance(k, ast.Constant) and k.value == key]
                entries = chosen or [v for _, v in pairs]
            else:
                fits = isinstance(key, int) and -len(table.elts) <= key < len(table.elts)
                entries = [table.elts[key]] if isinstance(key, int) and fits else table.elts
            items += [(entry, outer) for entry in entries]
        return items

    def _tables(
        self, module: Module, node: ast.expr, scopes: list[ast.AST], depth: int
    ) -> list[tuple[ast.Dict | ast.Tuple | ast.List, list[ast.AST]]]:
        if depth > DEPTH:
            raise Unresolved("followed too far")
        if isinstance(node, ast.Dict | ast.Tuple | ast.List):
            return [(node, scopes)]
        if isinstance(node, ast.Name):
            found = self._binding(module, node.id, scopes)
            if isinstance(found, Param):
                raise Unresolved(f"the table `{node.id}` is a parameter")
            bound, outer = found
            return [t for each in bound for t in self._tables(module, each, outer, depth + 1)]
        if isinstance(node, ast.Subscript):
            return [
                table
                for item, outer in self._items(module, node, scopes, depth + 1)
                for table in self._tables(module, item, outer, depth + 1)
            ]
        raise Unresolved(f"`{ast.unparse(node)}` is not a literal table")

    def _returns(self, module: Module, function: ast.AST, depth: int) -> list[str | Param]:
        scopes = [module.tree, function]
        returns = [n.value for n in _own_nodes(function) if isinstance(n, ast.Return) and n.value]
        found = [v for each in returns for v in self._values(module, each, scopes, depth)]
        if any(isinstance(v, Param) for v in found):
            raise Unresolved("a name returned from a parameter")
        return found

    def _pattern(
        self, module: Module, node: ast.JoinedStr, scopes: list[ast.AST], depth: int
    ) -> list[str | Param]:
        pattern = "".join(
            str(part.value) if isinstance(part, ast.Constant) else "{}" for part in node.values
        )
        holes = [p.value for p in node.values if isinstance(p, ast.FormattedValue)]
        if len(holes) == 1 and isinstance(holes[0], ast.Name):
            with_param = [v for v in self._try_name(module, holes[0].id, scopes, depth)]
            if with_param and all(isinstance(v, Param) for v in with_param):
                return [
                    Param(v.function, v.name, pattern) for v in with_param if isinstance(v, Param)
                ]
        if pattern not in self.computed:
            raise Unresolved(f'list the values of f-string pattern "{pattern}" in COMPUTED')
        self.patterns_seen.add(pattern)
        return [pattern.format(value) for value in self.computed[pattern]]

    def _try_name(
        self, module: Module, name: str, scopes: list[ast.AST], depth: int
    ) -> list[str | Param]:
        try:
            return self._name(module, name, scopes, depth)
        except Unresolved:
            return []
