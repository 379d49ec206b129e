"""What policy expressions can see of a document, so that CEL is handed only that.

Handing a document to CEL converts every value in it (about 1.5 µs a value, 60-100 µs a
document), and the lookup helpers hand documents over again on every call. Policies read a few
fields. This module parses each expression (the CEL grammar), follows the values read from
``self`` and from the helpers through field selections, indexes, comprehensions and ternaries, and
records per source of documents (``self`` of a kind, or a helper) the paths an expression
selects and the values it uses. :meth:`Projection.cut` then keeps of a document exactly those:
every key an expression selects (so ``has()`` and missing-key errors are unchanged), every value
used as a whole (compared, printed, passed to a function, ...), and the shape of the rest (a map
stays a map, a list keeps its elements), so an expression evaluates the same over the cut
document as over the whole one.

The analysis is conservative: what it does not understand is used as a whole, and an expression
it cannot parse (or whose names disagree with the CEL library's own analysis) turns projection off.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from spo_gitops.policy.expressions import cel_module

Data = dict[str, Any]
ANY_KIND = "*"  # entity(kind, name) with a computed kind may return a document of any kind
SELF = "self:"  # the root of ``self`` of a kind: "self:ServiceModel"
ENTITY = "entity:"  # the root of what entity(kind, ...) returns: "entity:Party", "entity:*"
ELEMENT = "*"  # path step: every element of a list

# Helpers returning one document, or a list of documents (lookups.py); each is its own root.
DOCUMENT_HELPERS = frozenset(["service", "party", "pool", "portfolio_of"])
LIST_HELPERS = frozenset(["slas_of", "spis_of", "dependents_of"])
BUSINESS_CASE_HELPERS = frozenset(
    ["tco", "roi", "npv", "payback"]
)  # read spec.businessCase of their argument
MACROS = frozenset(["all", "exists", "exists_one", "filter", "map"])


class Unsupported(Exception):
    """Syntax the analysis does not know: projection is turned off."""


# --- tokens and syntax tree ------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<space>\s+|//[^\n]*)
  | (?P<string>[rR][bB]?(?:'''.*?'''|\"\"\".*?\"\"\"|'[^'\n]*'|"[^"\n]*")
      | [bB][rR](?:'''.*?'''|\"\"\".*?\"\"\"|'[^'\n]*'|"[^"\n]*")
      | [bB]?(?:'''(?:\\.|[^\\])*?'''|\"\"\"(?:\\.|[^\\])*?\"\"\"
               |'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"))
  | (?P<number>0[xX][0-9a-fA-F]+[uU]?|(?:\d+\.\d+|\.\d+|\d+)(?:[eE][+-]?\d+)?[uU]?)
  | (?P<name>[_a-zA-Z][_a-zA-Z0-9]*)
  | (?P<op>\|\||&&|==|!=|<=|>=|[<>!+\-*/%?:.,\[\](){}])
    """,
    re.VERBOSE | re.DOTALL,
)
_SIMPLE_STRING = re.compile(r"""'([^'\\\n]*)'|"([^"\\\n]*)"$""")
_KEYWORDS = frozenset(["true", "false", "null", "in"])
_RELATIONS = frozenset(["<", "<=", ">=", ">", "==", "!=", "in"])


@dataclass(frozen=True)
class Token:
    kind: str  # string, number, name, op, end
    text: str


def tokenize(source: str) -> list[Token]:
    out: list[Token] = []
    pos = 0
    while pos < len(source):
        m = _TOKEN.match(source, pos)
        if m is None:
            raise Unsupported(f"unexpected character at {pos}")
        kind = m.lastgroup or ""
        if kind == "name" and m.group() in _KEYWORDS:
            kind = "op" if m.group() == "in" else "literal"
        if kind != "space":
            out.append(Token(kind, m.group()))
        pos = m.end()
    out.append(Token("end", ""))
    return out


# Nodes are tuples: (tag, ...) - see Parser for the shapes.
Node = tuple[Any, ...]


class Parser:
    """Recursive descent over the CEL grammar (cel-spec langdef.md, with optional syntax)."""

    def __init__(self, source: str) -> None:
        self.tokens = tokenize(source)
        self.pos = 0
        self.variables: set[str] = set()
        self.functions: set[str] = set()

    def parse(self) -> Node:
        node = self.expr()
        if self.peek().kind != "end":
            raise Unsupported(f"unexpected {self.peek().text!r}")
        return node

    def peek(self) -> Token:
        return self.tokens[self.pos]

    def take(self, text: str | None = None) -> Token:
        token = self.tokens[self.pos]
        if text is not None and token.text != text:
            raise Unsupported(f"expected {text!r}, got {token.text!r}")
        self.pos += 1
        return token

    def accept(self, text: str) -> bool:
        if self.peek().kind in ("op", "name") and self.peek().text == text:
            self.pos += 1
            return True
        return False

    def expr(self) -> Node:
        cond = self.binary(0)
        if self.accept("?"):
            then = self.binary(0)
            self.take(":")
            return ("cond", cond, then, self.expr())
        return cond

    _LEVELS: tuple[frozenset[str], ...] = (
        frozenset(["||"]),
        frozenset(["&&"]),
        _RELATIONS,
        frozenset(["+", "-"]),
        frozenset(["*", "/", "%"]),
    )

    def binary(self, level: int) -> Node:
        if level == len(self._LEVELS):
            return self.unary()
        node = self.binary(level + 1)
        while self.peek().kind == "op" and self.peek().text in self._LEVELS[level]:
            op = self.take().text
            node = ("binary", op, node, self.binary(level + 1))
        return node

    def unary(self) -> Node:
        if self.peek().kind == "op" and self.peek().text in ("!", "-"):
            op = self.take().text
            return ("unary", op, self.unary())
        return self.member()

    def member(self) -> Node:
        node = self.primary()
        while True:
            if self.accept("."):
                optional = self.accept("?")
                name = self.take().text if self.peek().kind == "name" else ""
                if not name:
                    raise Unsupported("expected a field name")
                if not optional and self.accept("("):
                    node = ("call", node, name, self.arguments(")"))
                    if name not in MACROS:
                        self.functions.add(name)
                else:
                    node = ("select", node, name, optional)
            elif self.accept("["):
                optional = self.accept("?")
                index = self.expr()
                self.take("]")
                node = ("index", node, index, optional)
            elif self.peek().kind == "op" and self.peek().text == "{":
                if node[0] not in ("ident", "select"):
                    return node
                self.take("{")
                fields = []
                while not self.accept("}"):
                    self.accept("?")
                    self.take()  # field name
                    self.take(":")
                    fields.append(self.expr())
                    if not self.accept(","):
                        self.take("}")
                        break
                node = ("message", tuple(fields))
            else:
                return node

    def arguments(self, close: str) -> tuple[Node, ...]:
        args: list[Node] = []
        while not self.accept(close):
            args.append(self.expr())
            if not self.accept(","):
                self.take(close)
                break
        return tuple(args)

    def primary(self) -> Node:
        token = self.take()
        if token.kind in ("string", "number", "literal"):
            return ("literal", token.text)
        if token.kind == "name" or token.text == ".":
            dot = token.text == "."
            if dot and self.peek().kind != "name":
                raise Unsupported("expected a name after '.'")
            name = self.take().text if dot else token.text
            if self.accept("("):
                if name not in MACROS and name != "has":
                    self.functions.add(name)
                return ("call", None, name, self.arguments(")"))
            self.variables.add(f".{name}" if dot else name)
            return ("ident", name)
        if token.text == "(":
            node = self.expr()
            self.take(")")
            return node
        if token.text == "[":
            return ("list", self.arguments("]"))
        if token.text == "{":
            entries: list[Node] = []
            while not self.accept("}"):
                self.accept("?")
                entries.append(self.expr())
                self.take(":")
                entries.append(self.expr())
                if not self.accept(","):
                    self.take("}")
                    break
            return ("list", tuple(entries))
        raise Unsupported(f"unexpected {token.text!r}")


def string_literal(node: Node) -> str | None:
    """The value of a plain quoted string without escapes, else None."""
    if node[0] != "literal":
        return None
    m = _SIMPLE_STRING.fullmatch(node[1])
    return None if m is None else (m.group(1) if m.group(1) is not None else m.group(2))


# --- what an expression reads ----------------------------------------------------------------


@dataclass
class Step:
    """A node of the tree of paths read from documents of one kind."""

    whole: bool = False
    children: dict[str, Step] = field(default_factory=dict)

    def at(self, path: Iterable[str]) -> Step:
        step = self
        for part in path:
            step = step.children.setdefault(part, Step())
        return step


# Where a value of an expression comes from: (form, root, path); form "doc" is a value inside a
# document from that root, "list" the list of documents a list helper returns.
Origin = tuple[str, str, tuple[str, ...]]
Origins = frozenset[Origin]
NOTHING: Origins = frozenset()


class Analysis:
    def __init__(self) -> None:
        self.roots: dict[str, Step] = {}

    def _step(self, root: str, path: tuple[str, ...]) -> Step:
        return self.roots.setdefault(root, Step()).at(path)

    def use(self, origins: Origins) -> None:
        """The values are used as a whole: keep them entirely."""
        for _form, root, path in origins:
            self._step(root, path).whole = True

    def add(self, source: str, self_kinds: Iterable[str]) -> None:
        """Record what ``source`` reads, with ``self`` a document of one of ``self_kinds``."""
        parser = Parser(source)
        tree = parser.parse()
        self._check_names(source, parser)
        env: dict[str, Origins] = {"self": frozenset(("doc", SELF + k, ()) for k in self_kinds)}
        self.use(self.eval(tree, env))

    @staticmethod
    def _check_names(source: str, parser: Parser) -> None:
        """Guard against a misreading (a string taken for code, or code for a string): the
        names found must be the ones the CEL library finds."""
        program = cel_module().compile(source)
        variables = set(program.variables())
        functions = {f for f in program.functions() if re.fullmatch(r"[_a-zA-Z][\w.]*", f)}
        functions = {f for f in functions if not f.startswith("_")}
        if variables != parser.variables or not functions <= parser.functions | {
            f"{t}.{f}" for t in parser.variables for f in parser.functions
        }:
            raise Unsupported("names differ from the CEL library's")

    def eval(self, node: Node, env: dict[str, Origins]) -> Origins:
        tag = node[0]
        if tag == "literal":
            return NOTHING
        if tag == "ident":
            return env.get(node[1], NOTHING)
        if tag == "select":
            _, operand, name, optional = node
            return self._select(self.eval(operand, env), name, optional)
        if tag == "index":
            _, operand, index, optional = node
            origins = self.eval(operand, env)
            self.use(self.eval(index, env))
            key = string_literal(index)
            if key is not None:
                return self._select(origins, key, optional)
            if index[0] == "literal" and index[1][:1].isdigit() and not optional:
                return self._elements(origins)
            self.use(origins)
            return NOTHING
        if tag == "call":
            return self._call(node, env)
        if tag == "cond":
            _, cond, then, other = node
            self.use(self.eval(cond, env))
            return self.eval(then, env) | self.eval(other, env)
        if tag == "binary":
            _, op, left, right = node
            lo, ro = self.eval(left, env), self.eval(right, env)
            # a cut value keeps its type, so comparing it with null gives the same answer
            null = ("literal", "null")
            if op in ("==", "!=") and (left == null or right == null):
                return NOTHING
            self.use(lo | ro)
            return NOTHING
        # unary, list, map, message: every part is used
        for part in _parts(node):
            self.use(self.eval(part, env))
        return NOTHING

    def _select(self, origins: Origins, name: str, optional: bool) -> Origins:
        if optional:
            self.use(origins)
            return NOTHING
        out: set[Origin] = set()
        for form, kind, path in origins:
            if form != "doc":
                self.use(frozenset([(form, kind, path)]))
                continue
            self._step(kind, (*path, name))  # the key is kept: has() and errors stay the same
            out.add((form, kind, (*path, name)))
        return frozenset(out)

    def _elements(self, origins: Origins) -> Origins:
        """The elements of the lists (or keys of the maps) ``origins``."""
        out: set[Origin] = set()
        for form, kind, path in origins:
            if form == "list":
                out.add(("doc", kind, ()))
            else:
                self._step(kind, (*path, ELEMENT))
                out.add((form, kind, (*path, ELEMENT)))
        return frozenset(out)

    def _call(self, node: Node, env: dict[str, Origins]) -> Origins:
        _, target, name, args = node
        if target is None and name == "has" and len(args) == 1 and args[0][0] == "select":
            self.eval(args[0], env)  # has() on a map asks for the key, which the cut keeps
            return NOTHING
        if target is not None and name in MACROS and args and args[0][0] == "ident":
            shape = len(args) == 2 or (name == "map" and len(args) == 3)
            origins = self.eval(target, env)
            if shape:
                inner = {**env, args[0][1]: self._elements(origins)}
                results = [self.eval(a, inner) for a in args[1:]]
                for r in results:
                    self.use(r)
                return origins if name == "filter" else NOTHING
            self.use(origins)  # e.g. two-variable comprehensions: keep the range whole
            inner = {**env, **{a[1]: NOTHING for a in args if a[0] == "ident"}}
            for a in args:
                self.use(self.eval(a, inner))
            return NOTHING
        if target is None and name == "size" and len(args) == 1:
            self._size(self.eval(args[0], env))
            return NOTHING
        if target is not None and name == "size" and not args:
            self._size(self.eval(target, env))
            return NOTHING
        if target is None and name in BUSINESS_CASE_HELPERS and len(args) == 1:
            origins = self.eval(args[0], env)
            for form, kind, path in origins:
                if form == "doc":
                    self._step(kind, (*path, "spec", "businessCase")).whole = True
                else:
                    self.use(frozenset([(form, kind, path)]))
            return NOTHING
        if target is not None:
            self.use(self.eval(target, env))
        for a in args:
            self.use(self.eval(a, env))
        if target is None and name == "entity" and len(args) == 2:
            return frozenset([("doc", ENTITY + (string_literal(args[0]) or ANY_KIND), ())])
        if target is None and name in DOCUMENT_HELPERS:
            return frozenset([("doc", name, ())])
        if target is None and name in LIST_HELPERS:
            return frozenset([("list", name, ())])
        return NOTHING

    def _size(self, origins: Origins) -> None:
        # a list of documents keeps its length; anything else (a map loses keys) is used whole
        self.use(frozenset(o for o in origins if o[0] != "list"))


def _parts(node: Node) -> list[Node]:
    tag = node[0]
    if tag == "unary":
        return [node[2]]
    if tag in ("list", "message"):
        return list(node[1])
    raise Unsupported(f"unknown node {tag}")


# --- cutting documents -----------------------------------------------------------------------


def cut(value: Any, step: Step) -> Any:
    """``value`` with only what ``step`` reads of it (see the module's docstring)."""
    if step.whole:
        return value
    if isinstance(value, dict):
        if ELEMENT in step.children:
            return value
        # only selected (never iterated or printed), so the order of the keys does not matter
        return {k: cut(value[k], child) for k, child in step.children.items() if k in value}
    if isinstance(value, list):
        element = step.children.get(ELEMENT)
        if element is None or len(step.children) > 1:
            return value
        return [cut(v, element) for v in value]
    return value


@dataclass
class Projection:
    """The paths the policies read, per root (``self:<kind>``, a helper's name,
    ``entity:<kind>``); ``roots`` None means whole documents."""

    roots: dict[str, Step] | None

    @classmethod
    def of(cls, expressions: Iterable[tuple[str, Iterable[str]]]) -> Projection:
        """From (CEL source, kinds of self) pairs; whole documents if any source is not
        understood."""
        analysis = Analysis()
        try:
            for source, kinds in expressions:
                analysis.add(source, kinds)
        except (Unsupported, RecursionError, ValueError):
            return cls(None)
        return cls(analysis.roots)

    def cut(self, root: str, data: Data) -> Data:
        """What the expressions read of ``data``, a document handed over by ``root``: ``self``
        (``self:<kind>``), a helper (its name) or ``entity`` (``entity:<kind>``)."""
        if self.roots is None:
            return data
        step = self.roots.get(root) or Step()
        if root.startswith(ENTITY):
            wildcard = self.roots.get(ENTITY + ANY_KIND)
            if wildcard is not None:
                step = _merge(step, wildcard)
        result: Data = cut(data, step)
        return result


def _merge(a: Step, b: Step) -> Step:
    out = Step(a.whole or b.whole, dict(a.children))
    for k, v in b.children.items():
        out.children[k] = _merge(out.children[k], v) if k in out.children else v
    return out
