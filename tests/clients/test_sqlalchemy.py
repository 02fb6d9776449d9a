"""SQLAlchemy 2 with the psycopg dialect (`postgresql+psycopg://`) against the real server:
DDL from metadata, reflection through pg_catalog, ORM writes and kNN reads with
`pgvector.sqlalchemy.Vector`.

The dialect's first connect fetches `hstore` with psycopg's TypeInfo inside a transaction
(a SAVEPOINT), its reflection spells columns `pg_catalog.pg_class.relname`, builds identity
options with `json_build_object` and reads `pg_index.indkey` as an int2vector (text `1 2`):
each is exercised here.  Expected reflection results are what the same calls give against
PostgreSQL 15 with pgvector 0.8.0.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import ServerProc
from pgvector.sqlalchemy import Vector
from sqlalchemy import BigInteger, Engine, Index, Integer, Text, create_engine, inspect, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "sa_items"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    tenant: Mapped[int] = mapped_column(Integer, index=True)
    embedding = mapped_column(Vector(3))
    __table_args__ = (
        Index(
            "sa_items_emb_idx",
            "embedding",
            postgresql_using="hnsw",
            postgresql_with={"m": 8},
            postgresql_ops={"embedding": "vector_cosine_ops"},
        ),
    )


@pytest.fixture(scope="module")
def engine(server: ServerProc) -> Iterator[Engine]:
    eng = create_engine(f"postgresql+psycopg://postgres@{server.host}:{server.port}/postgres")
    Base.metadata.drop_all(eng)
    Base.metadata.create_all(eng)
    yield eng
    Base.metadata.drop_all(eng)
    eng.dispose()


def test_create_all_and_table_names(engine: Engine) -> None:
    names = inspect(engine).get_table_names()
    assert "sa_items" in names
    assert inspect(engine).has_table("sa_items")
    assert not inspect(engine).has_table("sa_nope")


def test_reflect_columns_with_vector(engine: Engine) -> None:
    cols = inspect(engine).get_columns("sa_items")
    got = [
        (c["name"], type(c["type"]).__name__, c["nullable"], c["default"], c["autoincrement"])
        for c in cols
    ]
    assert got == [
        ("id", "BIGINT", False, "nextval('sa_items_id_seq'::regclass)", True),
        ("title", "TEXT", False, None, False),
        ("tenant", "INTEGER", False, None, False),
        ("embedding", "VECTOR", True, None, False),
    ]
    assert cols[3]["type"].dim == 3


def test_reflect_primary_key(engine: Engine) -> None:
    pk = inspect(engine).get_pk_constraint("sa_items")
    assert pk["name"] == "sa_items_pkey"
    assert pk["constrained_columns"] == ["id"]


def test_reflect_indexes_incl_hnsw(engine: Engine) -> None:
    indexes = sorted(inspect(engine).get_indexes("sa_items"), key=lambda i: i["name"])
    assert [(i["name"], i["unique"], i["column_names"]) for i in indexes] == [
        ("ix_sa_items_tenant", False, ["tenant"]),
        ("sa_items_emb_idx", False, ["embedding"]),
    ]
    hnsw = indexes[1]["dialect_options"]
    assert hnsw["postgresql_using"] == "hnsw"
    assert hnsw["postgresql_ops"] == {"embedding": "vector_cosine_ops"}
    assert hnsw["postgresql_with"] == {"m": "8"}
    assert "postgresql_using" not in indexes[0]["dialect_options"]  # btree is the default


def test_reflect_full_table_roundtrip(engine: Engine) -> None:
    from sqlalchemy import MetaData, Table

    table = Table("sa_items", MetaData(), autoload_with=engine)
    assert [c.name for c in table.columns] == ["id", "title", "tenant", "embedding"]
    assert [c.name for c in table.primary_key.columns] == ["id"]
    assert type(table.c.embedding.type).__name__ == "VECTOR"


def test_orm_insert_and_knn_select(engine: Engine) -> None:
    with Session(engine) as s:
        s.execute(Item.__table__.delete())
        s.add_all(
            [
                Item(id=i, title=f"t{i}", tenant=i % 2, embedding=[float(i), 1.0, 0.0])
                for i in range(1, 6)
            ]
        )
        s.commit()
        nearest = s.scalars(
            select(Item).order_by(Item.embedding.cosine_distance([1, 0, 0])).limit(3)
        ).all()
        assert [r.id for r in nearest] == [5, 4, 3]
        assert [float(x) for x in nearest[0].embedding] == [5.0, 1.0, 0.0]
        rows = s.execute(
            select(Item.id, Item.embedding.l2_distance([3, 1, 0]).label("d"))
            .where(Item.tenant == 0)
            .order_by("d")
            .limit(2)
        ).all()
        assert [(r.id, round(r.d, 6)) for r in rows] == [(2, 1.0), (4, 1.0)]


def test_orm_update_delete_and_rollback(engine: Engine) -> None:
    with Session(engine) as s:
        s.execute(Item.__table__.delete())
        s.add(Item(id=1, title="a", tenant=1, embedding=[1, 2, 3]))
        s.commit()
        item = s.get(Item, 1)
        assert item is not None
        item.title = "b"
        s.commit()
        s.add(Item(id=2, title="c", tenant=1, embedding=[1, 1, 1]))
        s.flush()
        s.rollback()
        assert s.scalars(select(Item.title).order_by(Item.id)).all() == ["b"]
        # a nested transaction (SAVEPOINT) that reads only, then commits
        with s.begin_nested():
            assert s.scalar(select(Item.id).where(Item.title == "b")) == 1
        s.commit()


def test_stream_results_uses_a_server_side_cursor(engine: Engine) -> None:
    with Session(engine) as s:
        s.execute(Item.__table__.delete())
        s.add_all([Item(id=i, title=f"t{i}", tenant=0, embedding=[i, 0, 0]) for i in range(20)])
        s.commit()
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, max_row_buffer=4).execute(
            select(Item.id).order_by(Item.id)
        )
        first = next(iter(result))
        assert conn.exec_driver_sql("SELECT count(*) FROM pg_cursors").scalar() == 1
        assert [first.id] + [r.id for r in result] == list(range(20))
