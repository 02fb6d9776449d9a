#!/bin/sh
# Regenerate the golden files from a real PostgreSQL 15 (no pgvector needed):
#   PGHOST=127.0.0.1 PGPORT=5432 PGUSER=postgres sh regen_from_postgres.sh
# The database must be empty of other tables.  pgvector's parts are derived by hand, as
# test_psql_meta.py's docstring explains: the reference schema uses `numeric[]` (the same
# width as `vector(3)`) for the vector column and a btree index where vecgres has HNSW;
# the edits below put pgvector's spellings back.  \dx, \dT and \l print the rows Postgres
# + pgvector would return through the same psql table printer, with the same titles.
set -eu
cd "$(dirname "$0")"
export PGTZ=UTC PSQLRC=/dev/null
P="psql -X -q"
$P -c "DROP TABLE IF EXISTS items, docs, defaults"
$P -c "CREATE TABLE items (id bigserial PRIMARY KEY, body text NOT NULL,
        tenant int DEFAULT 0, meta jsonb, embedding numeric[])" \
   -c "CREATE TABLE docs (doc_id integer PRIMARY KEY, title varchar(200),
        score double precision, created timestamptz)" \
   -c "CREATE TABLE defaults (a bigint DEFAULT 0, b int DEFAULT -1, c numeric DEFAULT 1.5,
        d text DEFAULT 'x', f boolean DEFAULT true, g jsonb DEFAULT '{}',
        i varchar(10) DEFAULT 'a', l timestamp DEFAULT current_timestamp, m int DEFAULT 1+2,
        n numeric(10,2) DEFAULT 3, o text DEFAULT 'it''s', p bigint DEFAULT -5,
        \"Odd Col\" text, r char(3))" \
   -c "CREATE INDEX items_embedding_idx ON items (embedding)" \
   -c "CREATE INDEX ON items (tenant)"
vec() {
  sed -e 's/numeric\[\]/vector(3)/' \
      -e 's/"items_embedding_idx" btree (embedding)/"items_embedding_idx" hnsw (embedding vector_cosine_ops)/' \
      -e 's/^btree, for table "public.items"/hnsw, for table "public.items"/' \
      -e '/^ embedding /s/| extended |/| external |/'
}
$P -c '\dt' > dt.out
$P -c '\d' > d.out
$P -c '\d items' | vec > d_items.out
$P -c '\d+ items' | vec > dplus_items.out
$P -c '\d docs' > d_docs.out
$P -c '\d+ docs' > dplus_docs.out
$P -c '\d defaults' > d_defaults.out
$P -c '\di' > di.out
$P -c '\d items_id_seq' > d_items_id_seq.out
$P -c '\d items_pkey' > d_items_pkey.out
$P -c '\d items_embedding_idx' | vec > d_items_embedding_idx.out
$P -c '\dn' > dn.out
$P -c '\du' > du.out
# vecgres has one database and no templates: \l's own query, for postgres only
$P -c '\pset title '"'"'List of databases'"'"'' -c "SELECT d.datname as \"Name\",
       pg_catalog.pg_get_userbyid(d.datdba) as \"Owner\",
       pg_catalog.pg_encoding_to_char(d.encoding) as \"Encoding\",
       d.datcollate as \"Collate\", d.datctype as \"Ctype\", d.daticulocale as \"ICU Locale\",
       CASE d.datlocprovider WHEN 'c' THEN 'libc' WHEN 'i' THEN 'icu' END AS \"Locale Provider\",
       pg_catalog.array_to_string(d.datacl, E'\n') AS \"Access privileges\"
FROM pg_catalog.pg_database d WHERE d.datname = 'postgres' ORDER BY 1" > l.out
# CREATE EXTENSION vector (0.8.0) adds a row to \dx and its three types to \dT
$P -c '\pset title '"'"'List of installed extensions'"'"'' -c "SELECT * FROM (VALUES
  ('plpgsql', '1.0', 'pg_catalog', 'PL/pgSQL procedural language'),
  ('vector', '0.8.0', 'public', 'vector data type and ivfflat and hnsw access methods'))
  v(\"Name\", \"Version\", \"Schema\", \"Description\") ORDER BY 1" > dx.out
$P -c '\pset title '"'"'List of data types'"'"'' -c "SELECT * FROM (VALUES
  ('public', 'halfvec', NULL), ('public', 'sparsevec', NULL), ('public', 'vector', NULL))
  v(\"Schema\", \"Name\", \"Description\") ORDER BY 1, 2" > dT.out
$P -c "DROP TABLE items, docs, defaults"
