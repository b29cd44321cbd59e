"""``error-reference``: every message the package raises for a user to act on, read from its source.

A mistake a user can fix (a bad spec, a missing file, a flag out of range) is raised as
`UserError` or one of its subclasses, with a message that says what is wrong, where and how to
fix it. This extension walks the package's modules with `ast` (it imports nothing, so the page
needs no optional dependency) and lists each such message as a template: an f-string's fields
are shown as ``{name}`` (a name or an attribute) or ``{…}`` (any other expression), adjacent and
``+``-joined literals are joined, and ``"...".format(...)`` is shown as its literal.

What counts as a *raise site*: a ``raise`` of a call to a `UserError` class (found by
inheritance across the package) or to an *error factory*, a function that returns one (such
as a ``refuse(message)`` that wraps a message into a spec problem). A message is read from the
call's argument, from the class's own ``super().__init__(...)``, from a ``msg = ...`` earlier in
the function, from the fields of a problem record (an argument named ``message``), and from
helper functions that return the text; a field naming a sentence the function wrote itself is
inlined. The problems of a spec file are gathered first and raised together, so their messages
are read where they are written: a problem record, a pydantic error's template, the
``ValueError`` of a pydantic validator. What the scan cannot read (a message made at run time
from another library's error, say) is named in the build log, one line each, never dropped
silently.

The page groups the messages by the part of the program they come from: the package's
subpackages (spec files, training, export, ...), each titled with its docstring's first line,
and the engine at the package's root. Nothing here names a module: modules move, the scan
follows.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PACKAGE = Path(__file__).resolve().parents[2] / "tinygrad_edu"
BASE = "UserError"
DEPTH = 6  # how many helper calls deep a message is followed
INLINED = 12  # a field naming a text the code wrote is inlined while a message has <= variants
SENTENCE = 5  # words: a field's text this long is part of the message, inlined; shorter, a value
MESSAGE_FIELDS = ("message", "msg", "text", "reason")  # a record's field that holds the text


@dataclass(frozen=True)
class Message:
    """One message template and where it is raised."""

    group: str  # the subpackage ("spec", "training", ...) or "" for the package's root
    module: str  # dotted, e.g. tinygrad_edu.spec.loader
    line: int
    exception: str
    template: str


@dataclass(frozen=True)
class Unread:
    """A raise site whose message the scan cannot read, with the expression it met."""

    module: str
    line: int
    exception: str
    expression: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line}: {self.expression}: message not read"


@dataclass
class Scan:
    messages: list[Message] = field(default_factory=list)
    unread: list[Unread] = field(default_factory=list)
    raise_sites: int = 0
    problem_sites: int = 0  # where a spec problem (file:line:column: key: message) is made
    groups: dict[str, str] = field(default_factory=dict)  # group -> its docstring's first line


@dataclass(frozen=True)
class _Module:
    name: str
    tree: ast.Module


@dataclass(frozen=True)
class _Scope:
    """Where an expression is read: its module, its function and the arguments bound to it."""

    module: _Module
    function: ast.AST | None
    bindings: tuple[tuple[str, ast.expr, _Scope], ...] = ()
    depth: int = 0

    def bound(self, name: str) -> tuple[ast.expr, _Scope] | None:
        for param, expr, scope in self.bindings:
            if param == name:
                return expr, scope
        return None


def _modules(package: Path) -> list[_Module]:
    modules = []
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules.append(_Module(".".join(parts), ast.parse(path.read_text("utf-8"), str(path))))
    return modules


def _name(node: ast.expr) -> str | None:
    """The last name of ``f``, ``mod.f`` or ``self.f``."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


class _Package:
    """The package's classes and functions by name, and which of them make a `UserError`."""

    def __init__(self, modules: list[_Module]):
        self.modules = modules
        self.classes: dict[str, list[tuple[_Module, ast.ClassDef]]] = {}
        self.functions: dict[str, list[tuple[_Module, ast.FunctionDef]]] = {}
        for module in modules:
            for node in ast.walk(module.tree):
                if isinstance(node, ast.ClassDef):
                    self.classes.setdefault(node.name, []).append((module, node))
                elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    self.functions.setdefault(node.name, []).append((module, node))
        self.family = self._family()
        self.factories: set[str] = set()
        self._grow_factories()
        self.problem_makers = self._problem_makers()

    def _family(self) -> set[str]:
        family, grown = {BASE}, True
        while grown:
            grown = False
            for name, defs in self.classes.items():
                bases = {_name(b) for _, c in defs for b in c.bases}
                if name not in family and bases & family:
                    family.add(name)
                    grown = True
        return family

    def makes_error(self, call: ast.expr) -> bool:
        if not isinstance(call, ast.Call):
            return False
        name = _name(call.func)
        return name in self.family or name in self.factories

    def _grow_factories(self) -> None:
        """Functions that return a `UserError` (or what another such function returns)."""
        grown = True
        while grown:
            grown = False
            for name, defs in self.functions.items():
                if name in self.factories:
                    continue
                if any(self.makes_error(r.value) for _, f in defs for r in _returns(f)):
                    self.factories.add(name)
                    grown = True

    def _problem_makers(self) -> set[str]:
        """Records with a message field (a spec's `Problem`) and the functions that take a
        ``message`` and build one: spec problems are made there and raised later, in bulk."""
        called = {  # what the raise sites call, and what those functions call in turn
            _name(n.func)
            for module in self.modules
            for r in ast.walk(module.tree)
            if isinstance(r, ast.Raise) and self.makes_error(r.exc)
            for n in ast.walk(r.exc)
            if isinstance(n, ast.Call)
        }
        for _ in range(DEPTH):
            called |= {
                _name(n.func)
                for name in list(called)
                for _, f in self.functions.get(name, [])
                for r in _returns(f)
                for n in ast.walk(r)
                if isinstance(n, ast.Call)
            }
        makers = {  # the records a raised error carries, with a message field
            name
            for name in called
            if any(set(_fields(c)) & set(MESSAGE_FIELDS) for _, c in self.classes.get(name, []))
        }
        grown = True
        while grown:
            grown = False
            for name, defs in self.functions.items():
                if name in makers:
                    continue
                for _, function in defs:
                    takes = {a.arg for a in function.args.args} & set(MESSAGE_FIELDS)
                    calls = {
                        _name(n.func)
                        for r in _returns(function)
                        for n in ast.walk(r)
                        if isinstance(n, ast.Call)
                    }
                    if takes and calls & makers:
                        makers.add(name)
                        grown = True
        return makers

    def function(self, name: str, near: _Module) -> tuple[_Module, ast.FunctionDef] | None:
        defs = self.functions.get(name, [])
        same = [d for d in defs if d[0] is near]
        return (same or defs or [None])[0]

    def klass(self, name: str, near: _Module) -> tuple[_Module, ast.ClassDef] | None:
        defs = self.classes.get(name, [])
        same = [d for d in defs if d[0] is near]
        return (same or defs or [None])[0]


def _fields(klass: ast.ClassDef) -> list[str]:
    """A record's fields in order (a dataclass's annotated names)."""
    return [
        s.target.id
        for s in klass.body
        if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)
    ]


def _params(function: ast.AST) -> set[str]:
    args = function.args
    every = args.posonlyargs + args.args + args.kwonlyargs + [args.vararg, args.kwarg]
    return {a.arg for a in every if a is not None}


def _returns(function: ast.AST) -> Iterator[ast.Return]:
    """The function's own ``return X`` statements (not those of functions nested in it)."""
    stack = list(ast.iter_child_nodes(function))
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Return) and node.value is not None:
            yield node
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            stack.extend(ast.iter_child_nodes(node))


def _field(node: ast.FormattedValue) -> str:
    value = node.value
    if isinstance(value, (ast.Name, ast.Attribute)) and not _name(value).startswith("__"):
        return "{" + _name(value) + "}"
    return "{…}"  # an expression, or type(x).__name__: a value the message computes


def _positional(function: ast.AST) -> list[str]:
    """The parameters a call's positional arguments fill (``self`` and ``cls`` left out)."""
    params = [a.arg for a in function.args.posonlyargs + function.args.args]
    return params[1:] if params and params[0] in ("self", "cls") else params


def _bind(names: list[str], call: ast.Call, caller: _Scope) -> tuple:
    """(name, argument, where the argument is read) for each argument of ``call``."""
    bound = [(n, a, caller) for n, a in zip(names, call.args) if not isinstance(a, ast.Starred)]
    return tuple(bound + [(k.arg, k.value, caller) for k in call.keywords if k.arg])


class _Reader:
    """Reads the text an expression evaluates to, as a list of alternative templates."""

    def __init__(self, package: _Package):
        self.package = package
        self.skipped: list[Unread] = []  # returns of a helper that read only in part

    def read(self, expr: ast.expr, scope: _Scope) -> list[str] | None:
        if scope.depth > DEPTH:
            return None
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return [expr.value]
        if isinstance(expr, ast.JoinedStr):
            texts = [""]
            for value in expr.values:
                if not isinstance(value, ast.FormattedValue):
                    texts = [t + str(value.value) for t in texts]
                    continue
                parts = self._field(value, scope)
                if not parts or len(parts) * len(texts) > INLINED:
                    parts = [_field(value)]
                texts = [t + p for t in texts for p in parts]
            return texts
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
            left, right = self.read(expr.left, scope), self.read(expr.right, scope)
            if left is None and right is None:
                return None
            if self._is_list(expr, scope):  # lists of problems: one after the other
                return (left or []) + (right or [])
            return [a + b for a in left or ["{…}"] for b in right or ["{…}"]]
        if isinstance(expr, ast.BoolOp) and isinstance(expr.op, ast.Or):  # `given or default`
            return self._all([t for t in (self.read(v, scope) for v in expr.values) if t])
        if isinstance(expr, ast.IfExp):
            body, orelse = self.read(expr.body, scope), self.read(expr.orelse, scope)
            return None if body is None or orelse is None else body + orelse
        if isinstance(expr, ast.Tuple) and expr.elts:  # a (key path, message) pair
            return self.read(expr.elts[-1], scope)
        if isinstance(expr, ast.List):
            return self._all([self.read(e, scope) for e in expr.elts])
        if isinstance(expr, ast.Name):
            return self._name(expr, scope)
        if isinstance(expr, ast.Call):
            return self._call(expr, scope)
        return None

    def _field(self, value: ast.FormattedValue, scope: _Scope) -> list[str] | None:
        """A field naming a sentence the function (or module) wrote itself: that text, inlined
        while the alternatives stay few; ``None`` to show the field as ``{name}``."""
        if not isinstance(value.value, ast.Name) or scope.bound(value.value.id) is not None:
            return None
        if scope.function is not None and value.value.id in _params(scope.function):
            return None
        deeper = _Scope(scope.module, scope.function, scope.bindings, scope.depth + 2)
        texts = self._name(value.value, deeper)
        sentences = texts and all(len(t.split()) >= SENTENCE for t in texts)
        return texts if sentences else None  # not a short description ("an empty mapping")

    def _is_list(self, expr: ast.expr, scope: _Scope, depth: int = 0) -> bool:
        if depth > DEPTH:
            return False
        if isinstance(expr, (ast.List, ast.ListComp)):
            return True
        if isinstance(expr, ast.BinOp):
            return any(self._is_list(e, scope, depth + 1) for e in (expr.left, expr.right))
        if isinstance(expr, ast.Call) and _name(expr.func) in self.package.functions:
            found = self.package.function(_name(expr.func), scope.module)
            returns = list(_returns(found[1]))
            inner = _Scope(found[0], found[1])
            return bool(returns) and all(self._is_list(r.value, inner, depth + 1) for r in returns)
        return False

    @staticmethod
    def _all(parts: list[list[str] | None]) -> list[str] | None:
        if not parts or any(p is None for p in parts):
            return None
        return [text for part in parts for text in part]

    def _name(self, expr: ast.Name, scope: _Scope) -> list[str] | None:
        bound = scope.bound(expr.id)
        if bound is not None:
            return self.read(bound[0], bound[1])
        if scope.function is not None:
            texts = self._assigned(expr.id, scope.function.body, scope, before=expr.lineno)
            if texts is not None:
                return texts
        return self._constant(expr.id, scope.module, scope.depth)

    def _assigned(
        self, name: str, body: list[ast.stmt], scope: _Scope, before: int
    ) -> list[str] | None:
        """The texts ``name = ...`` (then ``name += ...``) gives it before line ``before``."""
        texts: list[str] | None = None
        statements = [n for stmt in body for n in ast.walk(stmt) if isinstance(n, ast.stmt)]
        for node in sorted(statements, key=lambda n: n.lineno):
            if node.lineno >= before:
                break
            if isinstance(node, ast.Assign) and any(_name(t) == name for t in node.targets):
                value = self.read(node.value, scope)
                texts = None if value is None else (texts or []) + value
            elif isinstance(node, ast.AugAssign) and _name(node.target) == name and texts:
                more = self.read(node.value, scope) or ["{…}"]
                longer = [t + m for t in texts for m in more]
                texts = longer if node in body else texts + longer  # under an `if`: either
        return texts

    def _constant(self, name: str, module: _Module, depth: int) -> list[str] | None:
        """A module's constant, or one it imports from another module of the package."""
        top = _Scope(module, None, (), depth + 1)
        if depth > DEPTH:
            return None
        for node in module.tree.body:
            if isinstance(node, ast.Assign) and any(_name(t) == name for t in node.targets):
                return self.read(node.value, top)
            if isinstance(node, ast.ImportFrom) and any(
                (a.asname or a.name) == name for a in node.names
            ):
                original = next(a.name for a in node.names if (a.asname or a.name) == name)
                for other in self.package.modules:
                    if other.name.endswith(node.module or "") and other is not module:
                        found = self._constant(original, other, depth + 1)
                        if found is not None:
                            return found
        return None

    def _call(self, call: ast.Call, scope: _Scope) -> list[str] | None:
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr == "format":
            if isinstance(func.value, ast.Constant) and isinstance(func.value.value, str):
                return [func.value.value]
            return None
        name = _name(func)
        if name is None:
            return None
        deeper = _Scope(scope.module, scope.function, scope.bindings, scope.depth + 1)
        found = self.package.function(name, scope.module)
        if found is not None:  # a helper returning the text (or a problem record holding it)
            module, function = found
            bound = _bind(_positional(function), call, deeper)
            inner = _Scope(module, function, bound, deeper.depth)
            read = [(r, self.read(r.value, inner)) for r in _returns(function)]
            if not any(texts for _, texts in read):
                return None
            for r, texts in read:  # the helper's other returns are named in the log
                if texts is None:
                    self.skipped.append(Unread(module.name, r.lineno, "", ast.unparse(r.value)))
            return [text for _, texts in read if texts for text in texts]
        record = self.package.klass(name, scope.module)
        if record is not None:  # a record such as Problem(file, line, column, path, message)
            bound = {p: (e, s) for p, e, s in _bind(_fields(record[1]), call, deeper)}
            for wanted in MESSAGE_FIELDS:
                if wanted in bound:
                    return self.read(*bound[wanted])
        return None

    def error(self, call: ast.Call, scope: _Scope) -> list[str] | None:
        """The message of a `UserError` made by ``call``: class or factory."""
        name = _name(call.func)
        if name in self.package.factories:
            module, function = self.package.function(name, scope.module)
            bound = _bind(_positional(function), call, scope)
            inner = _Scope(module, function, bound, scope.depth + 1)
            made = [r.value for r in _returns(function) if self.package.makes_error(r.value)]
            return self._all([self.error(m, inner) for m in made])
        found = self.package.klass(name, scope.module)
        if found is not None:  # a class that writes its own message in __init__
            module, klass = found
            init = next((f for f in klass.body if getattr(f, "name", "") == "__init__"), None)
            if init is not None:
                inner = _Scope(module, init, _bind(_positional(init), call, scope), scope.depth + 1)
                for node in ast.walk(init):
                    if (
                        isinstance(node, ast.Call)
                        and _name(node.func) == "__init__"
                        and node.args
                        and isinstance(node.func, ast.Attribute)
                        and isinstance(node.func.value, ast.Call)
                    ):
                        text = self.read(node.args[0], inner)
                        if text is not None:
                            return text
        first = call.args[0] if call.args else None
        first = next((k.value for k in call.keywords if k.arg in MESSAGE_FIELDS), first)
        return None if first is None else self.read(first, scope)


def _enclosing_function(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> ast.AST | None:
    while node in parents:
        node = parents[node]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return node
    return None


PROBLEM = "spec problem"
PYDANTIC_ERROR = "PydanticCustomError"  # pydantic's error with a message template


def _exception(known: _Package, call: ast.Call) -> str:
    """The class a raise site makes: its own name, or what the factory it calls returns."""
    name = _name(call.func)
    seen: set[str] = set()
    while name in known.factories and name not in seen:
        seen.add(name)
        made = [
            r.value
            for _, f in known.functions[name]
            for r in _returns(f)
            if known.makes_error(r.value)
        ]
        name = _name(made[0].func) if made else name
    return name


def _is_validator(function: ast.AST, module: _Module) -> bool:
    """A pydantic validator: decorated with ``*_validator`` or passed to ``*Validator(...)``."""
    for decorator in getattr(function, "decorator_list", []):
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if (_name(target) or "").endswith("validator"):
            return True
    return any(
        isinstance(n, ast.Call)
        and (_name(n.func) or "").endswith("Validator")
        and any(_name(a) == getattr(function, "name", None) for a in n.args)
        for n in ast.walk(module.tree)
    )


def _problems(
    known: _Package, module: _Module, parents: dict, consumed: set[int]
) -> Iterator[tuple[int, ast.expr, _Scope]]:
    """Where a spec problem's message is written: a problem record (or a function that makes
    one from a ``message``), a pydantic error template, a ``ValueError`` of a validator."""
    for node in ast.walk(module.tree):
        if id(node) in consumed:
            continue
        function = _enclosing_function(node, parents)
        scope = _Scope(module, function)
        params = _params(function) if function is not None else set()
        if isinstance(node, ast.Call) and _name(node.func) in known.problem_makers:
            name = _name(node.func)
            found = known.function(name, module)
            if found is not None:
                if not any(  # a function of the same name that makes no problem (jit's fail)
                    isinstance(n, ast.Call) and _name(n.func) in known.problem_makers
                    for r in _returns(found[1])
                    for n in ast.walk(r)
                ):
                    continue
                names = _positional(found[1])
            else:
                names = _fields(known.klass(name, module)[1])
            bound = {p: e for p, e, _ in _bind(names, node, scope)}
            message = next((bound[f] for f in MESSAGE_FIELDS if f in bound), None)
            if message is None or (isinstance(message, ast.Name) and message.id in params):
                continue  # a message passed through: read where it is written
            yield node.lineno, message, scope
        elif isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            call, name = node.exc, _name(node.exc.func)
            if name == PYDANTIC_ERROR and len(call.args) > 1:
                yield node.lineno, call.args[1], scope
            elif name == "ValueError" and call.args and _is_validator(function, module):
                yield node.lineno, call.args[0], scope
            elif (
                name in known.functions
                and call.args
                and any(
                    _name(getattr(r.value, "func", None)) == PYDANTIC_ERROR
                    for _, f in known.functions[name]
                    for r in _returns(f)
                )
            ):  # a helper that wraps (key path, message) pairs into one pydantic error
                pairs = call.args[0]
                if isinstance(pairs, ast.List) and all(
                    isinstance(e, ast.Tuple) for e in pairs.elts
                ):
                    for pair in pairs.elts:
                        yield node.lineno, pair.elts[-1], scope
                else:
                    yield node.lineno, pairs, scope


def _says_something(template: str) -> bool:
    """Whether a template has a word of its own besides its fields (not just "found")."""
    fixed = re.sub(r"\{[^{}]*\}", " ", template)
    return bool(set(re.findall(r"[A-Za-z]{4,}", fixed)) - {"found"})


def _summary(module: _Module) -> str:
    doc = ast.get_docstring(module.tree) or ""
    return " ".join(doc.split("\n\n", 1)[0].split())


def scan(package: Path = PACKAGE) -> Scan:
    """Every raise site of a `UserError` in the package, with its message where it reads."""
    modules = _modules(package)
    known = _Package(modules)
    reader = _Reader(known)
    result = Scan()
    root = package.name
    packages = {m.name for m in modules if any(o.name.startswith(m.name + ".") for o in modules)}
    for module in modules:
        parts = module.name.split(".")
        group = parts[1] if ".".join(parts[:2]) in packages and len(parts) > 1 else ""
        if module.name in packages and len(parts) == 2:
            result.groups[group] = _summary(module)
        parents = _parents(module.tree)
        consumed: set[int] = set()
        for node in ast.walk(module.tree):
            if not (isinstance(node, ast.Raise) and known.makes_error(node.exc)):
                continue
            consumed |= {id(n) for n in ast.walk(node)}
            result.raise_sites += 1
            scope = _Scope(module, _enclosing_function(node, parents))
            exception = _exception(known, node.exc)
            texts = reader.error(node.exc, scope)
            if texts is None:
                result.unread.append(
                    Unread(module.name, node.lineno, exception, ast.unparse(node.exc)[:120])
                )
                continue
            for text in dict.fromkeys(texts):
                result.messages.append(Message(group, module.name, node.lineno, exception, text))
        for line, expr, scope in _problems(known, module, parents, consumed):
            result.problem_sites += 1
            texts = reader.read(expr, scope)
            if texts is None:
                result.unread.append(Unread(module.name, line, PROBLEM, ast.unparse(expr)[:120]))
                continue
            for text in dict.fromkeys(texts):
                result.messages.append(Message(group, module.name, line, PROBLEM, text))
    for message in [m for m in result.messages if not _says_something(m.template)]:
        result.messages.remove(message)  # all fields ("{…}, found {found}"): named in the log
        result.unread.append(Unread(message.module, message.line, "", message.template))
    result.unread += list(dict.fromkeys(reader.skipped))
    result.groups.setdefault("", _summary(next(m for m in modules if m.name == root)))
    return result


# --- the page ----------------------------------------------------------------------------------


def _group_title(group: str, package: str) -> str:
    return f"{package}.{group}" if group else f"{package} (the engine and the modules at its root)"


def page_nodes(result: Scan, package: str = PACKAGE.name) -> list[Any]:
    """One section per part of the program, one item per message (with where it is raised)."""
    from docutils import nodes  # the docs extra: the scan itself needs only the standard library

    sections: list[nodes.Node] = []
    by_group: dict[str, list[Message]] = {}
    for message in result.messages:
        by_group.setdefault(message.group, []).append(message)
    for group in sorted(by_group, key=lambda g: (g != "", g)):
        section = nodes.section(ids=[nodes.make_id(f"errors-{group or 'root'}")])
        section += nodes.title(text=_group_title(group, package))
        if result.groups.get(group):
            section += nodes.paragraph(text=result.groups[group])
        items = nodes.bullet_list()
        seen: dict[tuple[str, str], list[Message]] = {}
        for message in by_group[group]:
            seen.setdefault((message.module, message.template), []).append(message)
        for (module, template), same in sorted(seen.items()):
            lines = ", ".join(str(m.line) for m in same)
            kinds = sorted({m.exception for m in same} - {BASE})
            where = f" — {module}, line{'s' if len(same) > 1 else ''} {lines}"
            if kinds:
                where += f" ({', '.join(kinds)})"
            paragraph = nodes.paragraph()
            paragraph += nodes.literal(text=template)
            paragraph += nodes.Text(where)
            items += nodes.list_item("", paragraph)
        section += items
        sections.append(section)
    return sections


def _directive() -> Any:
    from docutils import nodes
    from sphinx.util import logging
    from sphinx.util.docutils import SphinxDirective

    log = logging.getLogger(__name__)

    class ErrorReference(SphinxDirective):
        """Insert the generated list of messages, one section per part of the program."""

        def run(self) -> list[nodes.Node]:
            for path in PACKAGE.rglob("*.py"):
                self.env.note_dependency(str(path))
            result = scan()
            for unread in result.unread:  # in the log, one line each: never dropped silently
                log.info(f"error-reference: {unread}")
            log.info(
                f"error-reference: {result.raise_sites} raise sites, "
                f"{len(result.messages)} messages listed, {len(result.unread)} not read"
            )
            intro = nodes.paragraph(
                text=f"{len(result.messages)} messages, from the {result.raise_sites} places "
                f"that raise an error and the {result.problem_sites} places that write a "
                f"spec problem. {len(result.unread)} more are made while the program runs (from "
                "another library's error, say) and cannot be read from the source."
            )
            return [intro, *page_nodes(result)]

    return ErrorReference


def setup(app) -> dict[str, Any]:
    app.add_directive("error-reference", _directive())
    return {"parallel_read_safe": True, "parallel_write_safe": True}
