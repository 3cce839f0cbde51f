// Tables the benchmark seeds, generated inside SQLite by recursive CTEs sent through POST /query.
// "small" and "large" are the one-table shapes of issue 14 (about 230 and 2,000 bytes a row);
// "mixed" is the four-table schema of the first benchmarks (blobs, 64-bit integers, WITHOUT ROWID).

/** Prose-like text of `bytes` random bytes as hex: spaces, quotes (doubled in SQL) and a two-byte character. @param {string | number} bytes */
const prose = (bytes) => `replace(replace(replace(hex(randomblob(${bytes})), 'A', ' '), 'F', ''''), 'E', 'é')`;

/** A full-precision double: most need the exact power-of-two form of shared/real-literal.ts. */
const FULL_PRECISION_REAL = "random() / 9.2233720368547758e18 * 1000";

/**
 * One table `items`: integer key, short text, text of `bodyChars` characters, integer, full-precision REAL,
 * 16-byte blob, one index.
 * @param {number} bodyChars
 */
function oneTable(bodyChars) {
  return {
    schema: [
      "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT NOT NULL, body TEXT, n INTEGER, score REAL, tag BLOB)",
      "CREATE INDEX items_n ON items(n)",
    ],
    /** @param {number} first @param {number} last */
    statements: (first, last) => [
      `WITH RECURSIVE c(i) AS (SELECT ${first} UNION ALL SELECT i + 1 FROM c WHERE i < ${last})
       INSERT INTO items(id, name, body, n, score, tag) SELECT i, 'item ' || i,
         substr(${prose(Math.ceil(bodyChars / 2))}, 1, ${bodyChars}),
         abs(random() % 1000000), ${FULL_PRECISION_REAL}, randomblob(16)
       FROM c`,
    ],
    counts: "SELECT (SELECT count(*) FROM items) AS items",
    probe: { table: "items", countColumn: "items" },
    checksum: "SELECT count(*) AS rows, sum(length(body)) AS bodyChars, sum(n) AS nSum, sum(length(tag)) AS tagBytes, total(score) AS scoreTotal FROM items",
  };
}

export const ROW_SHAPES = {
  small: { ...oneTable(160), description: "one table, ~230-byte rows", bytesPerUnit: 240 },
  large: { ...oneTable(1800), description: "one table, ~2 KB rows", bytesPerUnit: 2100 },
  mixed: {
    description: "four tables: users, orders (index, FK), events (0.5-4 KB blobs), settings (WITHOUT ROWID, int64)",
    bytesPerUnit: 3600,
    schema: [
      "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT, age INTEGER, score REAL, bio TEXT, created_at TEXT NOT NULL)",
      "CREATE TABLE orders(id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), amount REAL NOT NULL, status TEXT NOT NULL, note TEXT, created_at INTEGER NOT NULL)",
      "CREATE INDEX orders_user ON orders(user_id)",
      "CREATE TABLE events(id INTEGER PRIMARY KEY, user_id INTEGER, kind TEXT NOT NULL, weight REAL, payload BLOB, meta TEXT)",
      "CREATE TABLE settings(owner INTEGER NOT NULL, key TEXT NOT NULL, value TEXT, version INTEGER NOT NULL, PRIMARY KEY(owner, key)) WITHOUT ROWID",
    ],
    /** Units first..last: 1 user, 4 orders, 1 event and 2 settings each. @param {number} first @param {number} last */
    statements: (first, last) => {
      const units = `WITH RECURSIVE c(i) AS (SELECT ${first} UNION ALL SELECT i + 1 FROM c WHERE i < ${last})`;
      return [
        `${units} INSERT INTO users(id, name, email, age, score, bio, created_at) SELECT i,
           'user ' || i || ' ' || substr('AdaBobCyDeeEveFayGusHal', 1 + abs(random() % 20), 3),
           CASE WHEN random() % 10 = 0 THEN NULL ELSE lower(hex(randomblob(5))) || '@example.com' END,
           CASE WHEN random() % 8 = 0 THEN NULL ELSE 18 + abs(random() % 70) END,
           ${FULL_PRECISION_REAL},
           CASE WHEN abs(random() % 10) < 3 THEN NULL ELSE ${prose("50 + abs(random() % 400)")} END,
           datetime(1600000000 + abs(random() % 150000000), 'unixepoch')
         FROM c`,
        `${units}, k(j) AS (VALUES (0), (1), (2), (3))
         INSERT INTO orders(id, user_id, amount, status, note, created_at) SELECT (i - 1) * 4 + j + 1, i,
           abs(random() % 100000) / 100.0,
           CASE abs(random() % 5) WHEN 0 THEN 'pending' WHEN 1 THEN 'paid' WHEN 2 THEN 'shipped' WHEN 3 THEN 'delivered' ELSE 'refunded' END,
           CASE WHEN random() % 5 = 0 THEN 'gift: ' || ${prose("4 + abs(random() % 12)")} END,
           1600000000 + abs(random() % 150000000)
         FROM c, k`,
        `${units} INSERT INTO events(id, user_id, kind, weight, payload, meta) SELECT i, 1 + abs(random() % i),
           CASE abs(random() % 4) WHEN 0 THEN 'login' WHEN 1 THEN 'view' WHEN 2 THEN 'click' ELSE 'purchase' END,
           CASE WHEN random() % 7 = 0 THEN NULL ELSE random() * 1.0 / (1 + abs(random() % 1000000)) END,
           CASE WHEN random() % 10 = 0 THEN NULL ELSE randomblob(512 + abs(random() % 3584)) END,
           '{"ip":"10.' || abs(random() % 256) || '.' || abs(random() % 256) || '.1","ua":"Mozilla/5.0 ' || hex(randomblob(8)) || '"}'
         FROM c`,
        `${units}, k(name) AS (VALUES ('theme'), ('locale'))
         INSERT INTO settings(owner, key, value, version) SELECT i, k.name,
           CASE WHEN random() % 6 = 0 THEN NULL ELSE ${prose("20 + abs(random() % 100)")} END,
           random()
         FROM c, k`,
      ];
    },
    counts:
      "SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM orders) AS orders, " +
      "(SELECT count(*) FROM events) AS events, (SELECT count(*) FROM settings) AS settings",
    probe: { table: "users", countColumn: "users" },
    checksum:
      "SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM orders) AS orders, (SELECT count(*) FROM events) AS events, " +
      "(SELECT count(*) FROM settings) AS settings, (SELECT sum(length(payload)) FROM events) AS payloadBytes, (SELECT sum(version % 1000003) FROM settings) AS versionCheck",
  },
};

/** @typedef {keyof typeof ROW_SHAPES} ShapeName */

/**
 * Seeds `database` with `shape` until its size (as `measureSize` reports it) is within 3% of `targetBytes`.
 * Each request is one transaction writing about `batchBytes`.
 * @param {{ transaction: (statements: { sql: string }[], options: { database: string }) => Promise<any[]> }} api
 * @param {{ shape: ShapeName, database: string, targetBytes: number, batchBytes: number, measureSize: () => Promise<number>, onProgress?: (text: string) => void }} options
 */
export async function seedShape(api, { shape, database, targetBytes, batchBytes, measureSize, onProgress }) {
  const spec = ROW_SHAPES[shape];
  const t0 = performance.now();
  await api.transaction(spec.schema.map((sql) => ({ sql })), { database });
  let units = 0;
  let bytesPerUnit = spec.bytesPerUnit;
  let size = 0;
  let requests = 0;
  // Seed to ~97% of the estimate, measure, correct the estimate, repeat until within 3%.
  for (let round = 0; round < 5; round++) {
    const wanted = Math.floor(((targetBytes - size) / bytesPerUnit) * (round === 0 ? 0.97 : 1));
    const goal = units + Math.max(wanted, 0);
    const batchUnits = Math.max(1000, Math.floor(batchBytes / bytesPerUnit));
    while (units < goal) {
      const last = Math.min(goal, units + batchUnits);
      await api.transaction(spec.statements(units + 1, last).map((sql) => ({ sql })), { database });
      requests += 1;
      units = last;
      onProgress?.(`seeding ${shape}: ${units} units, ~${Math.round((units * bytesPerUnit) / 1e6)} MB`);
    }
    size = await measureSize();
    if (units > 0) bytesPerUnit = size / units;
    if (size >= targetBytes * 0.97) break;
  }
  const [counts] = await api.transaction([{ sql: spec.counts }], { database });
  const seconds = (performance.now() - t0) / 1000;
  return { shape, units, rows: counts[0], databaseSize: size, seconds: Math.round(seconds * 10) / 10, requests };
}
