// node-postgres (pg, pg-cursor) against vecgres: run by tests/clients/test_node_pg.py, which
// passes the server in PGHOST/PGPORT and reads the JSON this prints on stdout.
"use strict";

const { Client } = require("pg");
const Cursor = require("pg-cursor");

const vec = (a) => `[${a.join(",")}]`;

async function main() {
  const client = new Client({ user: "postgres", database: "postgres" });
  await client.connect();
  const out = {};
  try {
    await client.query("DROP TABLE IF EXISTS node_items");
    await client.query(
      "CREATE TABLE node_items (id int PRIMARY KEY, label text, embedding vector(3))",
    );
    for (let i = 0; i < 12; i++) {
      await client.query("INSERT INTO node_items VALUES ($1, $2, $3)", [
        i,
        `item ${i}`,
        vec([i, 1, 0]),
      ]);
    }
    const knn = await client.query(
      "SELECT id, label, embedding, embedding <-> $1 AS distance FROM node_items " +
        "ORDER BY embedding <-> $1 LIMIT 5",
      [vec([4.2, 1, 0])],
    );
    out.knn = knn.rows;
    out.knnFields = knn.fields.map((f) => [f.name, f.dataTypeID]);
    const filtered = await client.query(
      "SELECT id FROM node_items WHERE id >= $1 ORDER BY embedding <=> $2 LIMIT $3",
      [6, vec([1, 0, 0]), 3],
    );
    out.filtered = filtered.rows.map((r) => r.id);

    // a named prepared statement: parsed once, then Bind/Execute with new vectors
    out.named = [];
    for (const q of [[1, 0, 0], [0, 1, 0]]) {
      const res = await client.query({
        name: "knn_by_vector",
        text: "SELECT id FROM node_items ORDER BY embedding <=> $1 LIMIT 2",
        values: [vec(q)],
        rowMode: "array",
      });
      out.named.push(res.rows.map((r) => r[0]));
    }

    // pg-cursor: Execute with a row limit, Flush, PortalSuspended, ... in batches of 5
    const cursor = client.query(
      new Cursor("SELECT id FROM node_items WHERE id < $1 ORDER BY id", [11]),
    );
    out.batches = [];
    for (;;) {
      const rows = await cursor.read(5);
      if (rows.length === 0) break;
      out.batches.push(rows.map((r) => r.id));
    }
    await cursor.close();

    // a bad query is an error with Postgres's SQLSTATE, and the connection goes on
    try {
      await client.query("SELECT * FROM no_such_table");
      out.error = null;
    } catch (e) {
      out.error = e.code;
    }
    out.after = (await client.query("SELECT count(*)::int AS n FROM node_items")).rows[0].n;
  } finally {
    await client.end();
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
