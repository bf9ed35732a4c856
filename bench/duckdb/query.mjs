// DuckDB baseline for bench/profile_bench.cc: loads the profiles the bench
// exported to CSV, then runs the same count and group-by the bench runs on
// the profile store, several times each, and prints one JSON line with the
// median times and the answers (the bench checks they agree).
// Usage: node query.mjs PROFILES.csv "COUNT SQL WHERE" "GROUP BY COLUMNS" RUNS
import { DuckDBInstance } from '@duckdb/node-api';

const [csv, where, groupBy, runsText] = process.argv.slice(2);
const runs = Number(runsText || 7);
const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
const con = await instance.connect();

const ms = () => Number(process.hrtime.bigint()) / 1e6;
let t = ms();
await con.run(`CREATE TABLE p AS SELECT * FROM read_csv('${csv.replaceAll("'", "''")}', header = true, nullstr = '')`);
const loadMs = ms() - t;

async function timed(sql) {
  const times = [];
  let rows;
  for (let i = 0; i < runs; i++) {
    const s = ms();
    const reader = await con.runAndReadAll(sql);
    rows = reader.getRowsJS();
    times.push(ms() - s);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)], rows };
}

const count = await timed(`SELECT count(*) FROM p WHERE ${where}`);
const group = await timed(`SELECT ${groupBy}, count(*), sum(revenue) FROM p GROUP BY ${groupBy}`);
console.log(JSON.stringify({
  loadMs,
  countMs: count.median,
  count: Number(count.rows[0][0]),
  groupByMs: group.median,
  groups: group.rows.length,
}));
