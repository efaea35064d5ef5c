"""A parser for the subset of SOQL a sync connector sends.

Why faithful errors matter: a connector that splices a quoted date into a WHERE clause, or mixes
AND and OR without parentheses, fails against a real org; the emulator must fail it the same way
(MALFORMED_QUERY with Salesforce's caret message) instead of guessing what was meant.

Grammar: SELECT (COUNT([field]) | field, ...) FROM object [WHERE cond] [ORDER BY key, ...]
[LIMIT n] [OFFSET n]; cond is comparisons (= != <> < <= > >= LIKE IN NOT IN) joined by AND or by
OR (never both at one level), NOT, and parentheses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

KEYWORDS = {
    "select", "from", "where", "and", "or", "not", "in", "like", "order", "by", "asc", "desc",
    "nulls", "first", "last", "limit", "offset", "null", "true", "false", "count", "group",
    "having", "includes", "excludes", "with", "for", "using", "typeof",
}
RANGE_LITERALS = {
    "today", "yesterday", "tomorrow", "last_n_days", "next_n_days", "this_month", "last_month",
    "this_year", "last_year", "this_week", "last_week",
}

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2}))
  | (?P<date>\d{4}-\d{2}-\d{2}(?![\dT]))
  | (?P<number>[+-]?\d+(?:\.\d+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*(?::\d+)?)
  | (?P<op>!=|<>|<=|>=|=|<|>)
  | (?P<punct>[(),])
    """,
    re.VERBOSE,
)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


class SoqlError(Exception):
    """A query Salesforce would refuse: `code` is the errorCode, str() the full message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Token:
    kind: str  # string/datetime/date/number/ident/op/punct/eof
    text: str
    pos: int


@dataclass(frozen=True)
class Literal:
    kind: str  # string/number/bool/null/date/datetime/range
    value: object
    pos: int
    raw: str = ""  # string literals: the undecoded text (LIKE needs \% and \_ as written)


@dataclass(frozen=True)
class FieldRef:
    name: str
    pos: int


@dataclass(frozen=True)
class Compare:
    field: FieldRef
    op: str  # = != < <= > >= like in notin
    values: tuple[Literal, ...]


@dataclass(frozen=True)
class BoolOp:
    op: str  # and / or
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Not:
    item: Expr


Expr = Compare | BoolOp | Not


@dataclass(frozen=True)
class OrderKey:
    field: FieldRef
    descending: bool
    nulls_last: bool


@dataclass
class Query:
    text: str
    object: FieldRef
    fields: list[FieldRef] = field(default_factory=list)
    count: bool = False  # SELECT COUNT()
    count_field: FieldRef | None = None  # SELECT COUNT(Id): an aggregate
    where: Expr | None = None
    order_by: list[OrderKey] = field(default_factory=list)
    limit: int | None = None
    offset: int | None = None


def caret_message(text: str, pos: int, detail: str) -> str:
    """Salesforce's error layout: the query line, a caret under the token, Row/Column, detail."""
    line_start = text.rfind("\n", 0, pos) + 1
    line_end = text.find("\n", pos)
    line = text[line_start : line_end if line_end >= 0 else len(text)]
    row = text.count("\n", 0, pos) + 1
    col = pos - line_start + 1
    return f"\n{line}\n{' ' * (col - 1)}^\nERROR at Row:{row}:Column:{col}\n{detail}"


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if not m:
            raise SoqlError("MALFORMED_QUERY", caret_message(text, pos, f"unexpected token: '{text[pos]}'"))
        kind = m.lastgroup or ""
        if kind != "ws":
            tokens.append(Token(kind, m.group(), pos))
        pos = m.end()
    tokens.append(Token("eof", "<EOF>", len(text)))
    return tokens


def decode_string(raw: str, text: str, pos: int) -> str:
    """Decode a quoted SOQL string (without the quotes); \\% and \\_ stay escaped for LIKE."""
    out: list[str] = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = raw[i + 1] if i + 1 < len(raw) else ""
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        elif nxt in ("%", "_"):
            out.append(nxt)
            i += 2
        elif nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", raw[i + 2 : i + 6]):
            out.append(chr(int(raw[i + 2 : i + 6], 16)))
            i += 6
        else:
            raise SoqlError("MALFORMED_QUERY", caret_message(text, pos, "Invalid string literal"))
    return "".join(out)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    # -- token helpers --
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def fail(self, token: Token | None = None, detail: str | None = None) -> SoqlError:
        token = token or self.tok
        shown = token.text if token.kind != "eof" else "<EOF>"
        return SoqlError(
            "MALFORMED_QUERY", caret_message(self.text, token.pos, detail or f"unexpected token: '{shown}'")
        )

    def is_kw(self, *words: str) -> bool:
        return self.tok.kind == "ident" and self.tok.text.lower() in words

    def take(self) -> Token:
        token = self.tok
        self.i += 1
        return token

    def expect_kw(self, word: str) -> Token:
        if not self.is_kw(word):
            raise self.fail()
        return self.take()

    def expect_punct(self, char: str) -> Token:
        if self.tok.text != char or self.tok.kind != "punct":
            raise self.fail()
        return self.take()

    def field_ref(self) -> FieldRef:
        token = self.tok
        if token.kind != "ident" or token.text.lower() in KEYWORDS or ":" in token.text:
            raise self.fail()
        self.take()
        return FieldRef(token.text, token.pos)

    # -- grammar --
    def parse(self) -> Query:
        self.expect_kw("select")
        fields: list[FieldRef] = []
        count = False
        count_field: FieldRef | None = None
        if self.is_kw("count") and self.tokens[self.i + 1].text == "(":
            self.take()
            self.expect_punct("(")
            if self.tok.text != ")":
                count_field = self.field_ref()
            else:
                count = True
            self.expect_punct(")")
        else:
            fields.append(self.field_ref())
            while self.tok.text == ",":
                self.take()
                fields.append(self.field_ref())
        self.expect_kw("from")
        obj = self.field_ref()
        query = Query(self.text, obj, fields, count, count_field)
        if self.is_kw("where"):
            self.take()
            query.where = self.condition()
        if self.is_kw("group", "having", "with", "for", "using", "typeof"):
            raise self.fail(detail=f"unexpected token: '{self.tok.text}' (not supported by the sandbox)")
        if self.is_kw("order"):
            self.take()
            self.expect_kw("by")
            query.order_by.append(self.order_key())
            while self.tok.text == ",":
                self.take()
                query.order_by.append(self.order_key())
        if self.is_kw("limit"):
            self.take()
            query.limit = self.integer()
        if self.is_kw("offset"):
            self.take()
            query.offset = self.integer()
        if self.tok.kind != "eof":
            raise self.fail()
        return query

    def integer(self) -> int:
        token = self.tok
        if token.kind != "number" or not token.text.isdigit():
            raise self.fail()
        self.take()
        return int(token.text)

    def order_key(self) -> OrderKey:
        ref = self.field_ref()
        descending = False
        if self.is_kw("asc", "desc"):
            descending = self.take().text.lower() == "desc"
        nulls_last = descending
        if self.is_kw("nulls"):
            self.take()
            if not self.is_kw("first", "last"):
                raise self.fail()
            nulls_last = self.take().text.lower() == "last"
        return OrderKey(ref, descending, nulls_last)

    def condition(self) -> Expr:
        first = self.unary()
        if not self.is_kw("and", "or"):
            return first
        op = self.tok.text.lower()
        items = [first]
        while self.is_kw("and", "or"):
            if self.tok.text.lower() != op:
                raise self.fail()  # SOQL refuses a AND b OR c without parentheses
            self.take()
            items.append(self.unary())
        return BoolOp(op, tuple(items))

    def unary(self) -> Expr:
        if self.is_kw("not"):
            self.take()
            return Not(self.unary())
        if self.tok.text == "(" and self.tok.kind == "punct":
            self.take()
            inner = self.condition()
            self.expect_punct(")")
            return inner
        return self.comparison()

    def comparison(self) -> Expr:
        ref = self.field_ref()
        if self.tok.kind == "op":
            op = self.take().text
            op = "!=" if op == "<>" else op
            return Compare(ref, op, (self.literal(),))
        if self.is_kw("like"):
            self.take()
            lit = self.literal()
            if lit.kind != "string":
                raise self.fail(self.tokens[self.i - 1])
            return Compare(ref, "like", (lit,))
        negated = False
        if self.is_kw("not"):
            self.take()
            negated = True
        if self.is_kw("in"):
            self.take()
            self.expect_punct("(")
            if self.is_kw("select"):
                raise self.fail(detail="unexpected token: 'SELECT' (semi-joins are not supported by the sandbox)")
            values = [self.literal()]
            while self.tok.text == ",":
                self.take()
                values.append(self.literal())
            self.expect_punct(")")
            return Compare(ref, "notin" if negated else "in", tuple(values))
        raise self.fail()

    def literal(self) -> Literal:
        token = self.take()
        if token.kind == "string":
            raw = token.text[1:-1]
            return Literal("string", decode_string(raw, self.text, token.pos), token.pos, raw)
        if token.kind == "number":
            return Literal("number", float(token.text), token.pos)
        if token.kind == "datetime":
            return Literal("datetime", token.text, token.pos)
        if token.kind == "date":
            return Literal("date", token.text, token.pos)
        if token.kind == "ident":
            word = token.text.lower()
            if word in ("true", "false"):
                return Literal("bool", word == "true", token.pos)
            if word == "null":
                return Literal("null", None, token.pos)
            base, _, n = word.partition(":")
            if base in RANGE_LITERALS:
                return Literal("range", (base, int(n) if n else 0), token.pos)
        raise self.fail(token)


def parse(text: str) -> Query:
    """Parse one SOQL statement; raises SoqlError (MALFORMED_QUERY) on bad syntax."""
    if not text or not text.strip():
        raise SoqlError("MALFORMED_QUERY", "unexpected token: '<EOF>'")
    return _Parser(text).parse()
