"""A real subset of SOQL, parsed properly and compiled to SQLite over the twin's store.

Supported: `SELECT f1, f2 | COUNT() | FIELDS(ALL|STANDARD|CUSTOM) FROM Obj [WHERE cond]
[ORDER BY f [ASC|DESC] [NULLS FIRST|LAST], ...] [LIMIT n] [OFFSET n]`, where cond combines
`f op literal` (=, !=, <>, <, <=, >, >=), `f [NOT] IN (...)`, `f LIKE 'x%'`, NOT, AND, OR and
parentheses (AND and OR cannot be mixed without parentheses, as in SOQL). Literals are typed as
in SOQL: quoted strings, numbers, TRUE/FALSE, NULL, unquoted dates and datetimes.

Fields the twin keeps in indexed columns (Id, IsDeleted, SystemModstamp, LastModifiedDate,
CreatedDate) compile to those columns, so `WHERE SystemModstamp >= X ORDER BY SystemModstamp`
walks an index; other fields compile to `json_extract` over the stored record.
Errors carry Salesforce's error codes and message layout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

from tap_salesforce.sandbox.ids import to18
from tap_salesforce.sandbox.records import sf_datetime
from tap_salesforce.sandbox.schema import COMPOUND, NUMERIC, TEXTUAL, Field, SObject

# sObject field -> the store column holding it
PROMOTED = {"Id": "id", "IsDeleted": "deleted", "SystemModstamp": "modstamp",
            "LastModifiedDate": "lastmod", "CreatedDate": "created"}
FIELDS_LIMIT = 200

# datetimes may carry up to six fractional digits (singer-io tap-salesforce bookmarks do)
_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:?\d{2}))
  | (?P<date>\d{4}-\d{2}-\d{2}(?![\dT]))
  | (?P<number>[+-]?\d+(?:\.\d+)?(?![\w.]))
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<op><=|>=|!=|<>|=|<|>)
  | (?P<punct>[(),])
""", re.X)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", '"': '"', "'": "'",
            "\\": "\\", "%": "\\%", "_": "\\_"}


class SoqlError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Token:
    kind: str  # datetime date number string ident op punct eof
    text: str
    pos: int

    @property
    def upper(self) -> str:
        return self.text.upper()


@dataclass(frozen=True)
class Literal:
    kind: str  # string number datetime date boolean null
    value: object
    token: Token


@dataclass(frozen=True)
class Comparison:
    field: Token
    op: str  # = != < <= > >= LIKE IN NOT IN
    values: tuple[Literal, ...]


@dataclass(frozen=True)
class BoolOp:
    op: str  # AND OR NOT
    parts: tuple


@dataclass
class Query:
    text: str
    select: list[Token] = field(default_factory=list)
    count: bool = False
    fields_fn: Token | None = None  # FIELDS(ALL|STANDARD|CUSTOM)
    sobject: Token | None = None
    where: object | None = None
    order: list[tuple[Token, bool, bool | None]] = field(default_factory=list)  # asc, nulls1st
    limit: int | None = None
    offset: int = 0


MAX_OFFSET = 2000  # SOQL's OFFSET ceiling (larger ones: 400 NUMBER_OUTSIDE_VALID_RANGE)


def _error(code: str, query: str, pos: int, detail: str) -> SoqlError:
    """A Salesforce-style message: the query line, a caret, the row/column, then the detail."""
    row = query.count("\n", 0, pos) + 1
    line_start = query.rfind("\n", 0, pos) + 1
    line_end = query.find("\n", pos)
    line = query[line_start: line_end if line_end >= 0 else len(query)]
    col = pos - line_start + 1
    return SoqlError(code, f"\n{line}\n{' ' * (col - 1)}^\nERROR at Row:{row}:Column:{col}\n"
                           f"{detail}")


def tokenize(text: str) -> list[Token]:
    tokens, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise _error("MALFORMED_QUERY", text, pos, f"unexpected token: '{text[pos]}'")
        if m.lastgroup != "ws":
            tokens.append(Token(m.lastgroup, m.group(), pos))
        pos = m.end()
    tokens.append(Token("eof", "", len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def next(self) -> Token:
        tok = self.peek()
        self.i += 1
        return tok

    def fail(self, tok: Token, detail: str | None = None) -> SoqlError:
        shown = tok.text if tok.kind != "eof" else "<EOF>"
        return _error("MALFORMED_QUERY", self.text, tok.pos,
                      detail or f"unexpected token: '{shown}'")

    def keyword(self, *words: str) -> bool:
        tok = self.peek()
        if tok.kind == "ident" and tok.upper in words:
            self.i += 1
            return True
        return False

    def expect_keyword(self, word: str) -> None:
        if not self.keyword(word):
            raise self.fail(self.peek())

    def expect_punct(self, ch: str) -> None:
        tok = self.next()
        if tok.kind != "punct" or tok.text != ch:
            raise self.fail(tok)

    def ident(self) -> Token:
        tok = self.next()
        if tok.kind != "ident" or tok.upper in _RESERVED:
            raise self.fail(tok)
        return tok

    def parse(self) -> Query:
        q = Query(self.text)
        self.expect_keyword("SELECT")
        self._select_list(q)
        self.expect_keyword("FROM")
        q.sobject = self.ident()
        if self.keyword("WHERE"):
            q.where = self._or()
        if self.keyword("ORDER"):
            self.expect_keyword("BY")
            while True:
                fld = self.ident()
                asc = not self.keyword("DESC")
                if asc:
                    self.keyword("ASC")
                nulls_first = None
                if self.keyword("NULLS"):
                    if self.keyword("FIRST"):
                        nulls_first = True
                    else:
                        self.expect_keyword("LAST")
                        nulls_first = False
                q.order.append((fld, asc, nulls_first))
                if not (self.peek().kind == "punct" and self.peek().text == ","):
                    break
                self.next()
        if self.keyword("LIMIT"):
            q.limit = self._int()
        if self.keyword("OFFSET"):
            at = self.peek().pos
            q.offset = self._int()
            if q.offset > MAX_OFFSET:
                raise _error("NUMBER_OUTSIDE_VALID_RANGE", q.text, at,
                             f"Maximum SOQL offset allowed is {MAX_OFFSET}")
        tok = self.peek()
        if tok.kind != "eof":
            raise self.fail(tok)
        return q

    def _int(self) -> int:
        tok = self.next()
        if tok.kind != "number" or not tok.text.isdigit():
            raise self.fail(tok)
        return int(tok.text)

    def _select_list(self, q: Query) -> None:
        while True:
            tok = self.peek()
            if tok.kind == "ident" and tok.upper == "COUNT" and self.peek(1).text == "(":
                self.i += 1
                self.expect_punct("(")
                self.expect_punct(")")
                q.count = True
            elif tok.kind == "ident" and tok.upper == "FIELDS" and self.peek(1).text == "(":
                self.i += 1
                self.expect_punct("(")
                arg = self.next()
                if arg.kind != "ident" or arg.upper not in ("ALL", "STANDARD", "CUSTOM"):
                    raise self.fail(arg)
                self.expect_punct(")")
                q.fields_fn = arg
            else:
                q.select.append(self.ident())
            if not (self.peek().kind == "punct" and self.peek().text == ","):
                break
            self.next()
        if q.count and (q.select or q.fields_fn):
            raise self.fail(self.peek(), "COUNT() cannot be combined with other fields")

    def _or(self):
        return self._chain("OR", self._and)

    def _and(self):
        return self._chain("AND", self._not)

    def _chain(self, word: str, inner):
        parts = [inner()]
        while self.keyword(word):
            parts.append(inner())
        other = "AND" if word == "OR" else "OR"
        tok = self.peek()
        if len(parts) > 1 and tok.kind == "ident" and tok.upper == other:
            raise self.fail(tok)  # SOQL needs parentheses to mix AND and OR
        return parts[0] if len(parts) == 1 else BoolOp(word, tuple(parts))

    def _not(self):
        if self.keyword("NOT"):
            return BoolOp("NOT", (self._not(),))
        if self.peek().kind == "punct" and self.peek().text == "(":
            self.next()
            inner = self._or()
            self.expect_punct(")")
            return inner
        return self._comparison()

    def _comparison(self) -> Comparison:
        fld = self.ident()
        tok = self.next()
        if tok.kind == "op":
            return Comparison(fld, "!=" if tok.text == "<>" else tok.text, (self._literal(),))
        if tok.kind == "ident" and tok.upper == "LIKE":
            return Comparison(fld, "LIKE", (self._literal(),))
        negate = tok.kind == "ident" and tok.upper == "NOT"
        if negate:
            tok = self.next()
        if tok.kind == "ident" and tok.upper == "IN":
            self.expect_punct("(")
            values = [self._literal()]
            while self.peek().kind == "punct" and self.peek().text == ",":
                self.next()
                values.append(self._literal())
            self.expect_punct(")")
            return Comparison(fld, "NOT IN" if negate else "IN", tuple(values))
        raise self.fail(tok)

    def _literal(self) -> Literal:
        tok = self.next()
        if tok.kind == "string":
            return Literal("string", _unescape(tok.text[1:-1]), tok)
        if tok.kind == "number":
            num = float(tok.text)
            return Literal("number", int(num) if num.is_integer() and "." not in tok.text
                           else num, tok)
        if tok.kind == "datetime":
            return Literal("datetime", _parse_datetime(tok.text), tok)
        if tok.kind == "date":
            return Literal("date", tok.text, tok)
        if tok.kind == "ident" and tok.upper in ("TRUE", "FALSE"):
            return Literal("boolean", tok.upper == "TRUE", tok)
        if tok.kind == "ident" and tok.upper == "NULL":
            return Literal("null", None, tok)
        raise self.fail(tok)


_RESERVED = {"SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "ORDER", "BY", "LIMIT",
             "OFFSET", "ASC", "DESC", "NULLS", "NULL", "TRUE", "FALSE"}


def _unescape(body: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body)


def _parse_datetime(text: str) -> datetime:
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    elif re.search(r"[+-]\d{4}$", text):
        text = text[:-2] + ":" + text[-2:]
    return datetime.fromisoformat(text).astimezone(timezone.utc)


def parse(text: str) -> Query:
    if not text or not text.strip():
        raise SoqlError("MALFORMED_QUERY", "A query string has to be specified")
    return _Parser(text).parse()


# -- compiling ---------------------------------------------------------------------------------


@dataclass
class Compiled:
    sobject: SObject
    fields: list[Field]  # the selected fields, canonical names, in SELECT order
    count: bool
    where: str
    params: list
    order_by: str
    limit: int | None
    offset: int


def column(fl: Field) -> str:
    """The SQL expression of a field's value in its store table."""
    col = PROMOTED.get(fl.name)
    return f'"{col}"' if col else f"json_extract(doc, '$.\"{fl.name}\"')"


def compile_query(text: str, objects: dict[str, SObject]) -> Compiled:
    q = parse(text)
    by_lower = {name.lower(): obj for name, obj in objects.items()}
    obj = by_lower.get(q.sobject.text.lower())
    if obj is None:
        raise _error("INVALID_TYPE", q.text, q.sobject.pos,
                     f"sObject type '{q.sobject.text}' is not supported. If you are attempting "
                     "to use a custom object, be sure to append the '__c' after the entity "
                     "name. Please reference your WSDL or the describe call for the "
                     "appropriate names.")
    c = _Compiler(q, obj)
    return c.run()


class _Compiler:
    def __init__(self, q: Query, obj: SObject):
        self.q, self.obj = q, obj
        self.fields = obj.by_lower()
        self.params: list = []

    def resolve(self, tok: Token) -> Field:
        fl = self.fields.get(tok.text.lower())
        if fl is not None:
            return fl
        if "." in tok.text:
            rel = tok.text.split(".")[0]
            known = any((x.relationship or "").lower() == rel.lower()
                        for x in self.obj.fields)
            detail = (f"Relationship fields such as '{tok.text}' are not supported in this "
                      "query" if known else
                      f"Didn't understand relationship '{rel}' in field path. If you are "
                      "attempting to use a custom relationship, be sure to append the '__r' "
                      "after the custom relationship name. Please reference your WSDL or the "
                      "describe call for the appropriate names.")
            raise _error("INVALID_FIELD", self.q.text, tok.pos, detail)
        raise _error("INVALID_FIELD", self.q.text, tok.pos,
                     f"No such column '{tok.text}' on entity '{self.obj.name}'. If you are "
                     "attempting to use a custom field, be sure to append the '__c' after the "
                     "custom field name. Please reference your WSDL or the describe call for "
                     "the appropriate names.")

    def run(self) -> Compiled:
        q = self.q
        selected: list[Field] = []
        if q.fields_fn is not None:
            kind = q.fields_fn.upper
            if kind != "STANDARD" and (q.limit is None or q.limit > FIELDS_LIMIT):
                raise _error("MALFORMED_QUERY", q.text, q.fields_fn.pos,
                             f"The SOQL FIELDS function must have a LIMIT of at most "
                             f"{FIELDS_LIMIT}")
            selected = [fl for fl in self.obj.fields
                        if kind == "ALL" or (fl.custom == (kind == "CUSTOM"))]
        for tok in q.select:
            fl = self.resolve(tok)
            if fl in selected:
                raise _error("MALFORMED_QUERY", q.text, tok.pos,
                             f"duplicate field selected: {fl.name}")
            selected.append(fl)
        where = self._cond(q.where) if q.where is not None else "1"
        order = []
        for tok, asc, nulls_first in q.order:
            fl = self.resolve(tok)
            if not fl.filterable or fl.type == "multipicklist":
                raise _error("INVALID_FIELD", q.text, tok.pos,
                             f"field '{fl.name}' can not be sorted in a query call")
            expr = column(fl) + (" COLLATE NOCASE" if fl.type in TEXTUAL - {"id", "reference"}
                                 else "")
            term = f"{expr} {'ASC' if asc else 'DESC'}"
            if nulls_first is not None and nulls_first != asc:  # SQLite's default otherwise
                term += " NULLS FIRST" if nulls_first else " NULLS LAST"
            order.append(term)
        return Compiled(self.obj, selected, q.count, where, self.params,
                        ", ".join(order) or "rid", q.limit, q.offset)

    def _cond(self, node) -> str:
        if isinstance(node, BoolOp):
            if node.op == "NOT":
                return f"NOT ({self._cond(node.parts[0])})"
            return "(" + f" {node.op} ".join(self._cond(p) for p in node.parts) + ")"
        return self._comparison(node)

    def _comparison(self, cmp: Comparison) -> str:
        fl = self.resolve(cmp.field)
        if not fl.filterable:
            raise _error("INVALID_FIELD", self.q.text, cmp.field.pos,
                         f"field '{fl.name}' can not be filtered in query call")
        expr = column(fl)
        textual = fl.type in TEXTUAL and fl.type not in ("id", "reference")
        collate = " COLLATE NOCASE" if textual else ""
        if cmp.op == "LIKE":
            if not textual:
                raise _error("INVALID_FIELD", self.q.text, cmp.field.pos,
                             f"invalid operator on {fl.type} field: LIKE")
            self.params.append(self._value(fl, cmp.values[0]))
            return f"{expr} LIKE ? ESCAPE '\\'"
        if cmp.op in ("IN", "NOT IN"):
            values = [self._value(fl, lit) for lit in cmp.values]
            non_null = [v for v in values if v is not None]
            self.params.extend(non_null)
            marks = ", ".join("?" * len(non_null))
            has_null = len(non_null) < len(values)
            if cmp.op == "IN":
                parts = [f"{expr}{collate} IN ({marks})"] if non_null else []
                parts += [f"{expr} IS NULL"] if has_null else []
                return "(" + " OR ".join(parts) + ")"
            inner = f"{expr}{collate} NOT IN ({marks})" if non_null else "1"
            return (f"({expr} IS NOT NULL AND {inner})" if has_null
                    else f"({expr} IS NULL OR {inner})")
        value = self._value(fl, cmp.values[0])
        if value is None:
            if cmp.op not in ("=", "!="):
                raise _error("MALFORMED_QUERY", self.q.text, cmp.values[0].token.pos,
                             "null may only be compared with = or !=")
            return f"{expr} IS {'NOT ' if cmp.op == '!=' else ''}NULL"
        self.params.append(value)
        if cmp.op == "!=":  # in SOQL, != also matches null values
            return f"({expr} IS NULL OR {expr}{collate} != ?)"
        return f"{expr}{collate} {cmp.op} ?"

    def _value(self, fl: Field, lit: Literal):
        if lit.kind == "null":
            return None
        t = fl.type
        expected = ("dateTime" if t == "datetime" else "date" if t == "date" else
                    "boolean" if t == "boolean" else "number" if t in NUMERIC else "string")
        ok = {"dateTime": lit.kind == "datetime", "date": lit.kind == "date",
              "boolean": lit.kind == "boolean", "number": lit.kind == "number",
              "string": lit.kind == "string"}[expected]
        if not ok:
            quoting = ("should be enclosed in quotes" if expected == "string"
                       else "should not be enclosed in quotes")
            raise _error("INVALID_FIELD", self.q.text, lit.token.pos,
                         f"value of filter criterion for field '{fl.name}' must be of type "
                         f"{expected} and {quoting}")
        if lit.kind == "datetime":
            return sf_datetime(lit.value)
        if lit.kind == "boolean":
            return int(lit.value)
        if t in ("id", "reference"):
            normalized = to18(lit.value)
            if normalized is None:
                if t == "id":
                    raise SoqlError("INVALID_QUERY_FILTER_OPERATOR",
                                    f"\ninvalid ID field: {lit.value}")
                return lit.value
            return normalized
        if t in COMPOUND:  # not reachable: compound fields are not filterable
            raise _error("INVALID_FIELD", self.q.text, lit.token.pos, "compound field")
        return lit.value
