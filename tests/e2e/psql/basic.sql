-- What a pgvector user types in psql: run with `psql -X -a -f basic.sql`, output compared
-- to basic.out.
CREATE EXTENSION IF NOT EXISTS vector;
DROP TABLE IF EXISTS docs;
CREATE TABLE docs (id bigserial PRIMARY KEY, body text, tenant int, embedding vector(3));
INSERT INTO docs (body, tenant, embedding) VALUES
  ('apple', 7, '[1,0,0]'),
  ('banana', 7, '[0.9,0.1,0]'),
  ('cherry', 8, '[0,1,0]'),
  ('date', 7, '[0,0,1]')
RETURNING id;
SELECT id, body, embedding FROM docs ORDER BY id;
SELECT id, body, embedding <=> '[1,0,0]' AS dist FROM docs WHERE tenant = 7
  ORDER BY embedding <=> '[1,0,0]' LIMIT 2;
SELECT body, embedding <-> '[0,1,0]' AS l2 FROM docs ORDER BY embedding <-> '[0,1,0]' LIMIT 3;
SELECT body FROM docs ORDER BY embedding <#> '[0,0,1]' LIMIT 1;
SELECT body FROM docs ORDER BY embedding <+> '[0,0,1]' LIMIT 1 OFFSET 1;
SELECT body FROM docs WHERE id <> 1
  ORDER BY embedding <-> (SELECT embedding FROM docs WHERE id = 1) LIMIT 1;
SELECT tenant, count(*) FROM docs GROUP BY tenant ORDER BY tenant;
UPDATE docs SET embedding = '[0,1,0.1]' WHERE body = 'date';
DELETE FROM docs WHERE body = 'cherry';
SELECT body, embedding FROM docs ORDER BY embedding <-> '[0,1,0]' LIMIT 1;
BEGIN;
INSERT INTO docs (body, tenant, embedding) VALUES ('elder', 9, '[1,1,1]');
SELECT count(*) FROM docs;
ROLLBACK;
SELECT count(*) FROM docs;
SET hnsw.ef_search = 64;
SHOW hnsw.ef_search;
INSERT INTO docs (body, embedding) VALUES ('bad', '[1,2]');
SELECT * FROM nope;
SELECT oid, typname FROM pg_type WHERE typname = 'vector';
DROP TABLE docs;
