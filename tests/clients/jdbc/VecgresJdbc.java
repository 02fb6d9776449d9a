// A small pgjdbc client for vecgres, run by tests/clients/test_jdbc.py.
// Usage: java -cp postgresql.jar:. VecgresJdbc <jdbc-url> <table>
// Prints one line per fact ("key: value"), which the test asserts.
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.postgresql.PGResultSetMetaData;
import org.postgresql.PGStatement;

public class VecgresJdbc {
    public static void main(String[] args) throws Exception {
        String url = args[0];
        String table = args[1];
        Properties props = new Properties();
        props.setProperty("user", "postgres");
        try (Connection c = DriverManager.getConnection(url, props)) {
            DatabaseMetaData md = c.getMetaData();
            System.out.println("product: " + md.getDatabaseProductName() + " "
                    + md.getDatabaseProductVersion());
            try (Statement st = c.createStatement()) {
                st.execute("DROP TABLE IF EXISTS " + table);
                st.execute("CREATE TABLE " + table
                        + " (id bigint PRIMARY KEY, title text, embedding vector(3))");
                st.execute("CREATE INDEX " + table + "_emb_idx ON " + table
                        + " USING hnsw (embedding vector_l2_ops)");
            }
            // a PreparedStatement executed 10 times: pgjdbc switches to a named server-side
            // statement (prepareThreshold 5) and binary transfer from then on
            try (PreparedStatement ins = c.prepareStatement(
                    "INSERT INTO " + table + " (id, title, embedding) VALUES (?, ?, ?::vector)")) {
                for (int i = 1; i <= 10; i++) {
                    ins.setLong(1, i);
                    ins.setString(2, "doc " + i);
                    ins.setString(3, "[" + i + "," + (i * 2) + "," + (i * 3) + "]");
                    ins.executeUpdate();
                }
            }
            List<String> knn = new ArrayList<>();
            try (PreparedStatement q = c.prepareStatement("SELECT id, title, embedding <-> ?::vector AS d FROM "
                    + table + " WHERE id > ? ORDER BY embedding <-> ?::vector LIMIT 3")) {
                for (int run = 0; run < 8; run++) {
                    q.setString(1, "[3,6,9]");
                    q.setLong(2, run % 2);
                    q.setString(3, "[3,6,9]");
                    StringBuilder sb = new StringBuilder();
                    try (ResultSet rs = q.executeQuery()) {
                        while (rs.next()) {
                            sb.append(rs.getLong(1)).append('/').append(rs.getString(2))
                                    .append('/').append(String.format("%.4f", rs.getDouble(3)))
                                    .append(';');
                        }
                    }
                    knn.add(sb.toString());
                }
                System.out.println("server_prepared: "
                        + q.unwrap(PGStatement.class).isUseServerPrepare());
            }
            for (int i = 0; i < knn.size(); i++) {
                System.out.println("knn" + i + ": " + knn.get(i));
            }
            try (PreparedStatement q = c.prepareStatement(
                    "SELECT count(*), sum(id) FROM " + table + " WHERE id <= ?")) {
                for (int run = 1; run <= 7; run++) {
                    q.setInt(1, run);
                    try (ResultSet rs = q.executeQuery()) {
                        rs.next();
                        System.out.println("count" + run + ": " + rs.getLong(1) + " " + rs.getLong(2));
                    }
                }
            }
            // a cursor: fetch size with autocommit off makes pgjdbc use a portal
            c.setAutoCommit(false);
            try (PreparedStatement q = c.prepareStatement(
                    "SELECT id, embedding FROM " + table + " ORDER BY id")) {
                q.setFetchSize(3);
                StringBuilder ids = new StringBuilder();
                String lastVec = null;
                try (ResultSet rs = q.executeQuery()) {
                    while (rs.next()) {
                        ids.append(rs.getLong(1)).append(',');
                        lastVec = rs.getString(2);
                    }
                }
                System.out.println("cursor: " + ids);
                System.out.println("cursor_last_vec: " + lastVec);
            }
            c.commit();
            c.setAutoCommit(true);

            // RowDescription's table OID / attnum: pgjdbc looks the columns up in pg_attribute
            try (Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery(
                            "SELECT id, title, embedding, id + 1 AS x FROM " + table + " LIMIT 1")) {
                ResultSetMetaData m = rs.getMetaData();
                for (int i = 1; i <= m.getColumnCount(); i++) {
                    System.out.println("rsmd: " + m.getColumnName(i) + " " + m.getColumnTypeName(i)
                            + " " + ((PGResultSetMetaData) m).getBaseTableName(i) + " "
                            + m.isNullable(i));
                }
            }
            try (ResultSet rs = md.getCatalogs()) {
                while (rs.next()) System.out.println("catalog: " + rs.getString("TABLE_CAT"));
            }
            try (ResultSet rs = md.getSchemas()) {
                while (rs.next()) System.out.println("schema: " + rs.getString("TABLE_SCHEM"));
            }
            try (ResultSet rs = md.getTables(null, "public", "%", new String[] {"TABLE"})) {
                while (rs.next()) {
                    System.out.println("table: " + rs.getString("TABLE_SCHEM") + "."
                            + rs.getString("TABLE_NAME") + " " + rs.getString("TABLE_TYPE"));
                }
            }
            try (ResultSet rs = md.getColumns(null, "public", table, "%")) {
                while (rs.next()) {
                    System.out.println("column: " + rs.getString("COLUMN_NAME") + " "
                            + rs.getString("TYPE_NAME") + " " + rs.getInt("DATA_TYPE") + " "
                            + rs.getInt("ORDINAL_POSITION") + " " + rs.getString("IS_NULLABLE"));
                }
            }
            try (ResultSet rs = md.getPrimaryKeys(null, "public", table)) {
                while (rs.next()) {
                    System.out.println("pk: " + rs.getString("COLUMN_NAME") + " "
                            + rs.getInt("KEY_SEQ") + " " + rs.getString("PK_NAME"));
                }
            }
            try (ResultSet rs = md.getIndexInfo(null, "public", table, false, false)) {
                while (rs.next()) {
                    System.out.println("index: " + rs.getString("INDEX_NAME") + " "
                            + rs.getString("COLUMN_NAME") + " " + rs.getBoolean("NON_UNIQUE"));
                }
            }
            try (ResultSet rs = md.getImportedKeys(null, "public", table)) {
                int n = 0;
                while (rs.next()) n++;
                System.out.println("imported_keys: " + n);
            }
            try (ResultSet rs = md.getFunctions(null, "public", "l2_distance")) {
                while (rs.next()) {
                    System.out.println("function: " + rs.getString("FUNCTION_SCHEM") + "."
                            + rs.getString("FUNCTION_NAME"));
                }
            }
            List<String> types = new ArrayList<>();
            try (ResultSet rs = md.getTypeInfo()) {
                while (rs.next()) types.add(rs.getString("TYPE_NAME"));
            }
            System.out.println("typeinfo_count: " + types.size());
            System.out.println("typeinfo_vector: " + types.contains("vector"));
            System.out.println("typeinfo_int8: " + types.contains("int8"));
        }
        System.out.println("done");
    }
}
