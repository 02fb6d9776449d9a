"""sqlfront.dialect: pgvector operators, statement node types, syntax errors, type names."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from engine.errors import SyntaxError_
from sqlfront.dialect import (
    DISTANCE_NODES,
    CosineDistance,
    Explain,
    HammingDistance,
    JaccardDistance,
    L1Distance,
    L2Distance,
    NegInnerProduct,
    VecPostgres,
    VectorDistance,
    datatype_name_and_args,
    parse,
)


def expr(sql: str) -> exp.Expr:
    """The single SELECT-list expression of `SELECT <sql>`."""
    (tree,) = parse(f"SELECT {sql}")
    return tree.selects[0]


# --------------------------------------------------------------------------- operators


@pytest.mark.parametrize(
    ("op", "node", "metric"),
    [
        ("<->", L2Distance, "l2"),
        ("<=>", CosineDistance, "cosine"),
        ("<#>", NegInnerProduct, "ip"),
        ("<+>", L1Distance, "l1"),
        ("<~>", HammingDistance, "hamming"),
        ("<%>", JaccardDistance, "jaccard"),
    ],
)
def test_operator_node(op: str, node: type[VectorDistance], metric: str) -> None:
    for sql in (f"a {op} b", f"a{op}b"):
        tree = expr(sql)
        assert type(tree) is node
        assert isinstance(tree, VectorDistance) and isinstance(tree, exp.Binary)
        assert (tree.left.name, tree.right.name) == ("a", "b")
    assert node.op == op and node.metric == metric
    assert DISTANCE_NODES[op] is node
    assert sqlglot.parse_one(f"x {op} y", read=VecPostgres).sql(dialect=VecPostgres) == (
        f"x {op} y"
    )


def test_distance_nodes_complete() -> None:
    assert set(DISTANCE_NODES) == {"<->", "<=>", "<#>", "<+>", "<~>", "<%>"}
    assert len({cls.metric for cls in DISTANCE_NODES.values()}) == 6


def test_stock_postgres_dialect_is_untouched() -> None:
    # Our subclass must not have mutated the parent's tables.
    assert isinstance(
        sqlglot.parse_one("SELECT a <=> b", read="postgres").selects[0], exp.NullSafeEQ
    )
    assert isinstance(sqlglot.parse_one("SELECT a <-> b", read="postgres").selects[0], exp.Distance)


def test_parameter_operand_and_alias() -> None:
    alias = expr("embedding <=> $1 AS dist")
    assert isinstance(alias, exp.Alias) and alias.alias == "dist"
    dist = alias.this
    assert isinstance(dist, CosineDistance)
    assert isinstance(dist.right, exp.Parameter) and dist.right.name == "1"


def test_order_by_distance_limit() -> None:
    (tree,) = parse("SELECT id FROM items ORDER BY embedding <-> '[1,2,3]' LIMIT 5")
    (ordered,) = tree.args["order"].expressions
    assert isinstance(ordered.this, L2Distance)
    assert ordered.this.right == exp.Literal.string("[1,2,3]")
    assert tree.args["limit"].expression == exp.Literal.number(5)


def test_subquery_right_operand() -> None:
    tree = expr("embedding <-> (SELECT embedding FROM items WHERE id = 1)")
    assert isinstance(tree, L2Distance)
    assert isinstance(tree.right, exp.Subquery)
    assert isinstance(tree.right.this, exp.Select)


@pytest.mark.parametrize(
    ("sql", "outer", "left", "right"),
    [
        # looser than + - * /
        ("1 <-> 2 + 3", L2Distance, exp.Literal, exp.Add),
        ("a + b <-> c", L2Distance, exp.Add, exp.Column),
        ("a <-> b * 2", L2Distance, exp.Column, exp.Mul),
        ("a % b <#> c", NegInnerProduct, exp.Mod, exp.Column),
        ("-a <+> b", L1Distance, exp.Neg, exp.Column),
        # tighter than comparisons
        ("a <-> b < 0.5", exp.LT, L2Distance, exp.Literal),
        ("a <=> b <= 0.5", exp.LTE, CosineDistance, exp.Literal),
        ("a <#> b = 0", exp.EQ, NegInnerProduct, exp.Literal),
        ("0.5 > a <~> b", exp.GT, exp.Literal, HammingDistance),
        # same tier as || and the JSON arrows, left-associative
        ("a <-> b <=> c", CosineDistance, L2Distance, exp.Column),
        ("a || b <%> c", JaccardDistance, exp.DPipe, exp.Column),
        ("a <%> b || c", exp.DPipe, JaccardDistance, exp.Column),
        ("a -> 'x' <-> b", L2Distance, exp.JSONExtract, exp.Column),
    ],
)
def test_precedence(sql: str, outer: type, left: type, right: type) -> None:
    tree = expr(sql)
    assert type(tree) is outer
    assert type(tree.left) is left
    assert type(tree.right) is right


@pytest.mark.parametrize(
    ("sql", "node"),
    [
        ("a <-> b BETWEEN 0 AND 1", exp.Between),
        ("a <-> b IN (1, 2)", exp.In),
        ("a <-> b IS NULL", exp.Is),
        ("a <=> b LIKE 'x'", exp.Like),
    ],
)
def test_looser_than_predicates(sql: str, node: type) -> None:
    tree = expr(sql)
    assert type(tree) is node
    assert isinstance(tree.this, VectorDistance)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT a <-> b, a <=> b, a <#> b, a <+> b, a <~> b, a <%> b FROM t",
        "SELECT embedding <=> $1 AS dist FROM items ORDER BY dist LIMIT 10",
        "SELECT * FROM items ORDER BY embedding <-> '[1,2,3]' LIMIT 5",
        "SELECT 1 <-> 2 + 3, (a <-> b) * 2, a <-> b < 0.5",
        "SELECT e <#> (SELECT e FROM items WHERE id = 1) FROM items WHERE e <-> $2 < 1",
        "DELETE FROM t WHERE e <+> '[1,2]' > 3 RETURNING id",
    ],
)
def test_round_trip(sql: str) -> None:
    assert sqlglot.parse_one(sql, read=VecPostgres).sql(dialect=VecPostgres) == sql
    (tree,) = parse(sql)
    assert tree.sql(dialect=VecPostgres) == sql


def test_generator_prints_built_trees() -> None:
    tree = L2Distance(this=exp.column("e"), expression=expr("$1"))
    assert tree.sql(dialect=VecPostgres) == "e <-> $1"
    assert CosineDistance(this=exp.column("a"), expression=exp.column("b")).sql(
        dialect=VecPostgres
    ) == ("a <=> b")


# --------------------------------------------------------------------------- stock behaviour


@pytest.mark.parametrize(
    ("sql", "node"),
    [
        ("j -> 'k'", exp.JSONExtract),
        ("j ->> 'k'", exp.JSONExtractScalar),
        ("j #> '{a,b}'", exp.JSONBExtract),
        ("j #>> '{a,b}'", exp.JSONBExtractScalar),
        ("a @> b", exp.ArrayContainsAll),
        ("a <@ b", exp.ArrayContainedBy),
        ("'[1,2,3]'::vector", exp.Cast),
        ("x::vector(3)", exp.Cast),
        ("$1", exp.Parameter),
        ("a < b", exp.LT),
        ("a <= b", exp.LTE),
        ("a <> b", exp.NEQ),
        ("a != b", exp.NEQ),
        ("a = b", exp.EQ),
        ("a >= b", exp.GTE),
        ("a || b", exp.DPipe),
        ("a % b", exp.Mod),
        ("a LIKE 'x%'", exp.Like),
        ("a ILIKE 'x%'", exp.ILike),
        ("a<-1", exp.LT),
        ("a << 2", exp.BitwiseLeftShift),
        ("a # b", exp.BitwiseXor),
        ("|/ 4", exp.Sqrt),
        ("a && b", exp.ArrayOverlaps),
        ("a IS DISTINCT FROM b", exp.NullSafeNEQ),
        ("a ~ 'x'", exp.RegexpLike),
    ],
)
def test_other_operators_match_stock_postgres(sql: str, node: type) -> None:
    ours = expr(sql)
    stock = sqlglot.parse_one(f"SELECT {sql}", read="postgres").selects[0]
    assert type(ours) is node
    assert ours == stock
    assert ours.sql(dialect=VecPostgres) == stock.sql(dialect="postgres")


def test_vector_casts() -> None:
    cast = expr("'[1,2,3]'::vector")
    assert isinstance(cast, exp.Cast) and cast.to.this == exp.DType.VECTOR
    assert datatype_name_and_args(cast.to) == ("vector", [])
    cast = expr("x::vector(3)")
    assert datatype_name_and_args(cast.to) == ("vector", [3])
    assert cast.sql(dialect=VecPostgres) == "CAST(x AS VECTOR(3))"


# --------------------------------------------------------------------------- statements


@pytest.mark.parametrize(
    ("sql", "node"),
    [
        ("CREATE EXTENSION IF NOT EXISTS vector", exp.Command),
        (
            "CREATE TABLE t (id bigserial PRIMARY KEY, e vector(3), j jsonb, "
            "n int NOT NULL DEFAULT 5)",
            exp.Create,
        ),
        (
            "CREATE INDEX ON docs USING hnsw (embedding vector_cosine_ops) "
            "WITH (m = 16, ef_construction = 64)",
            exp.Create,
        ),
        ("SET hnsw.ef_search = 100", exp.Set),
        ("SET search_path TO public", exp.Set),
        ("SHOW hnsw.ef_search", exp.Show),
        ("SHOW search_path", exp.Show),
        ("BEGIN", exp.Transaction),
        ("START TRANSACTION", exp.Transaction),
        ("COMMIT", exp.Commit),
        ("END", exp.Commit),
        ("ROLLBACK", exp.Rollback),
        ("ABORT", exp.Rollback),
        ("EXPLAIN SELECT * FROM t", Explain),
        ("EXPLAIN ANALYZE SELECT * FROM t", Explain),
        ("DROP TABLE IF EXISTS t", exp.Drop),
        ("INSERT INTO t (e) VALUES ('[1,2,3]') RETURNING id", exp.Insert),
        ("UPDATE t SET n = 1 WHERE id = 2", exp.Update),
        ("DELETE FROM t WHERE id = 2", exp.Delete),
        ("COPY t FROM STDIN", exp.Copy),
        ("DISCARD ALL", exp.Command),
        ("SAVEPOINT s1", exp.Command),
        ("RESET ALL", exp.Command),
        ("(SELECT 1)", exp.Subquery),
        ("VALUES (1)", exp.Values),
        ("WITH q AS (SELECT 1) SELECT * FROM q", exp.Select),
    ],
)
def test_statement_node_types(sql: str, node: type) -> None:
    (tree,) = parse(sql)
    assert type(tree) is node


def test_create_extension_is_command() -> None:
    (tree,) = parse("CREATE EXTENSION IF NOT EXISTS vector")
    assert tree.this == "CREATE"
    assert tree.text("expression").split() == ["EXTENSION", "IF", "NOT", "EXISTS", "vector"]
    (reset,) = parse("RESET hnsw.ef_search")
    assert (reset.this, reset.text("expression")) == ("RESET", "hnsw.ef_search")


def test_create_table_shape() -> None:
    (tree,) = parse(
        "CREATE TABLE t (id bigserial PRIMARY KEY, e vector(3), j jsonb, n int NOT NULL DEFAULT 5)"
    )
    assert tree.kind == "TABLE"
    assert isinstance(tree.this, exp.Schema) and tree.this.this.name == "t"
    cols = tree.this.expressions
    assert all(isinstance(c, exp.ColumnDef) for c in cols)
    assert [(c.name, datatype_name_and_args(c.kind)) for c in cols] == [
        ("id", ("bigserial", [])),
        ("e", ("vector", [3])),
        ("j", ("jsonb", [])),
        ("n", ("integer", [])),
    ]
    kinds = [type(c.kind) for c in cols[3].constraints]
    assert kinds == [exp.NotNullColumnConstraint, exp.DefaultColumnConstraint]
    assert isinstance(cols[0].constraints[0].kind, exp.PrimaryKeyColumnConstraint)


def test_create_index_shape() -> None:
    (tree,) = parse(
        "CREATE INDEX ON docs USING hnsw (embedding vector_cosine_ops) "
        "WITH (m = 16, ef_construction = 64)"
    )
    assert tree.kind == "INDEX"
    index = tree.this
    assert isinstance(index, exp.Index) and index.args["table"].name == "docs"
    params = index.args["params"]
    assert params.args["using"].name == "hnsw"
    (col,) = params.args["columns"]
    assert isinstance(col.this, exp.Opclass)
    assert (col.this.this.name, col.this.expression.name) == ("embedding", "vector_cosine_ops")
    storage = {p.name: p.args["value"] for p in params.args["with_storage"]}
    assert storage == {"m": exp.Literal.number(16), "ef_construction": exp.Literal.number(64)}


def test_set_shapes() -> None:
    (tree,) = parse("SET hnsw.ef_search = 100")
    (item,) = tree.expressions
    assert isinstance(item, exp.SetItem) and isinstance(item.this, exp.EQ)
    name = item.this.this
    assert isinstance(name, exp.Column) and (name.table, name.name) == ("hnsw", "ef_search")
    assert item.this.expression == exp.Literal.number(100)

    (tree,) = parse("SET search_path TO public")
    (item,) = tree.expressions
    assert item.this.this.name == "search_path"
    assert item.this.expression == exp.var("public")


@pytest.mark.parametrize(
    ("sql", "name"),
    [
        ("SHOW hnsw.ef_search", "hnsw.ef_search"),
        ("SHOW search_path", "search_path"),
        ("SHOW Search_Path", "search_path"),
        ("SHOW ALL", "all"),
        ("SHOW TIME ZONE", "timezone"),
        ("SHOW TRANSACTION ISOLATION LEVEL", "transaction_isolation"),
    ],
)
def test_show(sql: str, name: str) -> None:
    (tree,) = parse(sql)
    assert isinstance(tree, exp.Show) and tree.this == name
    assert tree.sql(dialect=VecPostgres) == f"SHOW {name}"


@pytest.mark.parametrize(
    ("sql", "modes"),
    [
        ("BEGIN", []),
        ("START TRANSACTION", []),
        ("BEGIN READ ONLY", ["READ ONLY"]),
        (
            "BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY",
            ["ISOLATION LEVEL SERIALIZABLE READ ONLY"],
        ),
        (
            "START TRANSACTION ISOLATION LEVEL READ COMMITTED, READ WRITE",
            ["ISOLATION LEVEL READ COMMITTED", "READ WRITE"],
        ),
    ],
)
def test_transaction_modes(sql: str, modes: list[str]) -> None:
    (tree,) = parse(sql)
    assert isinstance(tree, exp.Transaction)
    assert (tree.args.get("modes") or []) == modes


@pytest.mark.parametrize(
    ("sql", "options"),
    [
        ("EXPLAIN SELECT 1", {}),
        ("EXPLAIN ANALYZE SELECT 1", {"analyze": exp.true()}),
        ("EXPLAIN ANALYZE VERBOSE SELECT 1", {"analyze": exp.true(), "verbose": exp.true()}),
        (
            "EXPLAIN (ANALYZE, COSTS false, FORMAT JSON) SELECT 1",
            {"analyze": exp.true(), "costs": exp.false(), "format": exp.var("JSON")},
        ),
    ],
)
def test_explain(sql: str, options: dict[str, exp.Expr]) -> None:
    (tree,) = parse(sql)
    assert isinstance(tree, Explain)
    assert tree.this == parse("SELECT 1")[0]
    assert {p.name: p.args["value"] for p in tree.args["options"]} == options
    for name, value in options.items():
        assert tree.option(name) == value
    assert parse(tree.sql(dialect=VecPostgres))[0] == tree


def test_explain_wraps_any_statement() -> None:
    (tree,) = parse("EXPLAIN SELECT * FROM t ORDER BY e <-> '[1,2,3]' LIMIT 5")
    assert isinstance(tree.this, exp.Select)
    assert isinstance(tree.this.args["order"].expressions[0].this, L2Distance)
    (tree,) = parse("EXPLAIN INSERT INTO t VALUES (1)")
    assert isinstance(tree.this, exp.Insert)


def test_dml_shapes() -> None:
    (ins,) = parse("INSERT INTO t (e) VALUES ('[1,2,3]') RETURNING id")
    assert isinstance(ins.args["returning"], exp.Returning)
    assert isinstance(ins.expression, exp.Values)
    (upd,) = parse("UPDATE t SET n = 1 WHERE id = 2")
    assert upd.this.name == "t" and isinstance(upd.args["where"], exp.Where)
    (dele,) = parse("DELETE FROM t WHERE id = 2")
    assert dele.this.name == "t" and isinstance(dele.args["where"], exp.Where)
    (drop,) = parse("DROP TABLE IF EXISTS t")
    assert drop.kind == "TABLE" and drop.args["exists"] is True
    assert [t.name for t in drop.args["tables"]] == ["t"]
    (copy,) = parse("COPY t FROM STDIN")
    assert copy.this.name == "t" and copy.args["kind"] is True
    assert [f.name.upper() for f in copy.args["files"]] == ["STDIN"]


def test_identifiers_named_like_keywords() -> None:
    (tree,) = parse("SELECT explain, show, start FROM t")
    assert [c.name for c in tree.selects] == ["explain", "show", "start"]


# --------------------------------------------------------------------------- parse()


@pytest.mark.parametrize("sql", ["", "   ", "\n\t", ";", " ; ;; ", "-- just a comment", "/* c */"])
def test_parse_empty(sql: str) -> None:
    assert parse(sql) == []


def test_parse_multiple_statements() -> None:
    trees = parse("BEGIN; SELECT 1;; INSERT INTO t VALUES (1);\nEND; -- done")
    assert [type(t) for t in trees] == [exp.Transaction, exp.Select, exp.Insert, exp.Commit]


def test_parse_returns_fresh_copies() -> None:
    sql = "SELECT e <-> '[1,2]' FROM t WHERE id = 1"
    first = parse(sql)[0]
    first.set("where", None)
    first.selects[0].replace(exp.column("x"))
    second = parse(sql)[0]
    assert second is not first
    assert second.sql(dialect=VecPostgres) == sql


@pytest.mark.parametrize(
    ("sql", "message", "position"),
    [
        ("SELEC 1", 'syntax error at or near "SELEC"', 1),
        ("SELECT * FROM t WHERE", "syntax error at end of input", 22),
        ("SELECT 1 +", "syntax error at end of input", 11),
        ("SELECT * FROM t WHERE a = = 1", 'syntax error at or near "="', 27),
        ("SELECT * FROM t WHERE; SELECT 1", 'syntax error at or near ";"', 22),
        ("SELECT 1;\nSELEC 2", 'syntax error at or near "SELEC"', 11),
        ("SELECT a <-> FROM t", 'syntax error at or near "FROM"', 14),
        ("SELECT 1)", 'syntax error at or near ")"', 9),
        ("SELECT 'é',\n ) FROM t", 'syntax error at or near ")"', 14),
        ("SELECT 1 SELECT 2", 'syntax error at or near "SELECT"', 10),
        ("x", 'syntax error at or near "x"', 1),
        ("FROM t", 'syntax error at or near "FROM"', 1),
        ("(1)", 'syntax error at or near "1"', 2),
        ("START", "syntax error at end of input", 6),
        ("SHOW", "syntax error at end of input", 5),
        ("EXPLAIN 1", 'syntax error at or near "1"', 9),
        ("SELECT 'abc", 'unterminated quoted string at or near "\'abc"', 8),
        ('SELECT "abc', 'unterminated quoted identifier at or near ""abc"', 8),
        ("SELECT 1 /* x", 'unterminated /* comment at or near "/* x"', 10),
    ],
)
def test_syntax_errors(sql: str, message: str, position: int) -> None:
    with pytest.raises(SyntaxError_) as info:
        parse(sql)
    assert info.value.message == message
    assert info.value.position == position
    assert info.value.sqlstate == "42601"


# --------------------------------------------------------------------------- types


@pytest.mark.parametrize(
    ("type_sql", "expected"),
    [
        ("vector(3)", ("vector", [3])),
        ("vector", ("vector", [])),
        ("public.vector(1536)", ("vector", [1536])),
        ("halfvec(4)", ("halfvec", [4])),
        ("sparsevec(5)", ("sparsevec", [5])),
        ("bit(8)", ("bit", [8])),
        ("bigserial", ("bigserial", [])),
        ("serial8", ("bigserial", [])),
        ("serial", ("serial", [])),
        ("serial4", ("serial", [])),
        ("int", ("integer", [])),
        ("integer", ("integer", [])),
        ("int4", ("integer", [])),
        ("int8", ("bigint", [])),
        ("bigint", ("bigint", [])),
        ("smallint", ("smallint", [])),
        ("int2", ("smallint", [])),
        ("float8", ("double precision", [])),
        ("double precision", ("double precision", [])),
        ("float4", ("real", [])),
        ("real", ("real", [])),
        ("bool", ("boolean", [])),
        ("boolean", ("boolean", [])),
        ("varchar(10)", ("varchar", [10])),
        ("character varying(10)", ("varchar", [10])),
        ("text", ("text", [])),
        ("jsonb", ("jsonb", [])),
        ("json", ("json", [])),
        ("numeric(10, 2)", ("numeric", [10, 2])),
        ("timestamptz", ("timestamptz", [])),
        ("int[]", ("integer[]", [])),
        ("my_enum", ("my_enum", [])),
    ],
)
def test_datatype_name_and_args(type_sql: str, expected: tuple[str, list[int]]) -> None:
    (create,) = parse(f"CREATE TABLE t (c {type_sql})")
    column_type = create.find(exp.ColumnDef).kind
    assert isinstance(column_type, exp.DataType)
    assert datatype_name_and_args(column_type) == expected
    assert datatype_name_and_args(expr(f"x::{type_sql}").to) == expected


def test_vector_datatype_node() -> None:
    dt = expr("x::vector(3)").to
    assert dt.this == exp.DType.VECTOR
    (param,) = dt.expressions
    assert isinstance(param, exp.DataTypeParam) and param.this == exp.Literal.number(3)
    halfvec = expr("x::halfvec(3)").to
    assert halfvec.this == exp.DType.USERDEFINED and halfvec.args["kind"].name == "halfvec"


def test_datatype_bad_modifier() -> None:
    with pytest.raises(SyntaxError_):
        datatype_name_and_args(expr("x::vector(n)").to)


def test_adjacent_parameters_and_dollar_quotes():
    # `$1,$2` is two parameters (stock sqlglot reads a dollar-quote tagged `1,`)
    assert (
        parse("INSERT INTO t VALUES ($1,$2,$3)")[0].sql("postgres")
        == "INSERT INTO t VALUES ($1, $2, $3)"
    )
    assert parse("SELECT $1,$2")[0].sql("postgres") == "SELECT $1, $2"
    assert parse("SELECT $$a,b$$, $x$it's$x$")[0].sql("postgres") == "SELECT 'a,b', 'it''s'"
    # `::oid[]` / `::regtype[]`: arrays of the object-identifier types
    cast = parse("SELECT $1::oid[]")[0].expressions[0]
    assert cast.to.this == exp.DType.ARRAY and cast.to.expressions[0].name.lower() == "oid"
