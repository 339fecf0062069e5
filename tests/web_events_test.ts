import assert from "node:assert/strict";
import { Hono } from "hono";
import { eventsPath, EventStore } from "../src/live/events.ts";
import { formatEventsCsv, parseEventsCsv } from "../src/live/events_csv.ts";
import { parseTime } from "../src/live/event_time.ts";
import { LiveSession } from "../src/live/session.ts";
import { liveApi } from "../src/server/routes/live_api.ts";
import { onError } from "../src/server/errors.ts";
import { Refusal } from "../src/schema/refusal.ts";
import { authConfig, secure } from "../src/server/security.ts";
import { tempDir } from "./helpers.ts";

const DENVER = "America/Denver";
const ms = (iso: string) => new Date(iso).getTime();

Deno.test("parseTime() reads zoned times as given and naive times in the zone passed", () => {
  assert.equal(parseTime("2024-05-01T14:30:00Z", DENVER).at, ms("2024-05-01T14:30:00Z"));
  assert.equal(parseTime("2024-05-01 14:30:00+02:00", DENVER).at, ms("2024-05-01T12:30:00Z"));
  assert.equal(parseTime("2024-05-01T14:30-0130", "UTC").at, ms("2024-05-01T16:00:00Z"));
  assert.equal(parseTime("2024-05-01T14:30:00.250 UTC", DENVER).at, ms("2024-05-01T14:30:00.250Z"));
  // Naive: MDT (UTC-6) in May, MST (UTC-7) in January.
  assert.equal(parseTime("2024-05-01T14:30:00", DENVER).at, ms("2024-05-01T20:30:00Z"));
  assert.equal(parseTime("2024-01-15 14:30", DENVER).at, ms("2024-01-15T21:30:00Z"));
  assert.equal(parseTime("2024-01-15", "UTC").at, ms("2024-01-15T00:00:00Z"));
  assert.equal(
    parseTime("2024-05-01T14:30:00[Europe/Paris]", DENVER).at,
    ms("2024-05-01T12:30:00Z"),
  );
});

Deno.test("parseTime() refuses a local time the DST change skipped, and says which of two it took", () => {
  // 2024-03-10 02:00 → 03:00 in Denver: 02:30 never happened.
  assert.throws(
    () => parseTime("2024-03-10T02:30:00", DENVER),
    /does not exist in America\/Denver/,
  );
  // 2024-11-03 02:00 → 01:00: 01:30 happened twice; the first (MDT, UTC-6) is taken.
  const t = parseTime("2024-11-03T01:30:00", DENVER);
  assert.equal(t.at, ms("2024-11-03T07:30:00Z"));
  assert.match(t.warning!, /happens twice/);
  assert.equal(parseTime("2024-11-03T01:30:00-07:00", DENVER).warning, null);
  assert.throws(() => parseTime("2024-02-30T10:00", "UTC"), /no such day/);
  assert.throws(() => parseTime("yesterday", "UTC"), Refusal);
  assert.throws(() => parseTime("2024-05-01T10:00", "Mars/Olympus"), /unknown time zone/);
});

Deno.test("parseEventsCsv() recognises a header and reports every bad row by its line", () => {
  const csv = [
    "event,timestamp", // 1
    "deploy,2024-05-01T14:30:00Z", // 2
    "", // 3: blank, skipped
    "no time here,", // 4
    '"load test, phase 1",2024-05-01 15:00', // 5: quoted comma, naive
    "too,many,fields,here", // 6
    "bad date,2024-13-01T00:00", // 7
    ",2024-05-01T16:00Z", // 8: no name
  ].join("\r\n");
  const r = parseEventsCsv(csv, DENVER);
  assert.equal(r.header, true);
  assert.deepEqual(r.errors.map((e) => e.line), [4, 6, 7, 8]);
  assert.match(r.errors[0]!.message, /not a date and time/);
  assert.match(r.errors[1]!.message, /found 4/);
  assert.match(r.errors[3]!.message, /name is empty/);
  assert.deepEqual(r.events, [
    { name: "deploy", at: ms("2024-05-01T14:30:00Z"), kind: "manual" },
    { name: "load test, phase 1", at: ms("2024-05-01T21:00:00Z"), kind: "manual" },
  ]);
});

Deno.test("parseEventsCsv() reads rows without a header, a kind column, any column order", () => {
  const plain = parseEventsCsv("\uFEFFa,2024-05-01T00:00Z\nb,2024-05-02T00:00Z,auto\n", "UTC");
  assert.equal(plain.header, false);
  assert.deepEqual(plain.errors, []);
  assert.deepEqual(plain.events.map((e) => [e.name, e.kind]), [["a", "manual"], ["b", "auto"]]);
  const reordered = parseEventsCsv("Timestamp,Kind,Event\n2024-05-01T00:00Z,auto,x\n", "UTC");
  assert.deepEqual(reordered.events, [{ name: "x", at: ms("2024-05-01T00:00Z"), kind: "auto" }]);
  const badKind = parseEventsCsv("x,2024-05-01T00:00Z,sometimes\n", "UTC");
  assert.deepEqual(badKind.errors, [{
    line: 1,
    message: "kind must be manual or auto, not 'sometimes'",
  }]);
  // A first row that is neither a header nor an event is reported, not dropped.
  const junk = parseEventsCsv("hello world\nx,2024-05-01T00:00Z\n", "UTC");
  assert.deepEqual(junk.errors.map((e) => e.line), [1]);
  const unclosed = parseEventsCsv('x,2024-05-01T00:00Z\n"open,2024\n', "UTC");
  assert.deepEqual(unclosed.errors, [{ line: 2, message: "a quoted field is never closed" }]);
});

Deno.test("EventStore writes <file>.events.csv atomically and re-reads it when it changes", () => {
  const dir = tempDir();
  const trace = `${dir}/trace.parquet`;
  const store = EventStore.forTrace(trace);
  assert.equal(store.path, eventsPath(trace));
  assert.deepEqual(store.list(), []);
  const a = store.add({ name: "deploy", at: ms("2024-05-01T14:30:00Z") });
  const ino1 = Deno.statSync(store.path).ino;
  store.add({ name: "CPU% > 90 (now 93.2)", at: ms("2024-05-01T14:00:00Z"), kind: "auto" });
  const ino2 = Deno.statSync(store.path).ino;
  assert.notEqual(ino1, ino2, "each save renames a new file over the old one");
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
    "trace.parquet.events.csv",
  ]);
  assert.equal(
    Deno.readTextFileSync(store.path),
    "event,timestamp,kind\nCPU% > 90 (now 93.2),2024-05-01T14:00:00.000Z,auto\n" +
      "deploy,2024-05-01T14:30:00.000Z,manual\n",
  );
  // Another store on the same file (a restart) sees the same events, with the same ids.
  const again = EventStore.forTrace(trace);
  assert.deepEqual(again.list(), store.list());
  assert.equal(again.list()[1]!.id, a.id);
  // Changed on disk behind its back: read again.
  Deno.writeTextFileSync(store.path, "event,timestamp,kind\nedited,2024-05-03T00:00:00Z,manual\n");
  assert.deepEqual(store.list().map((e) => e.name), ["edited"]);
  assert.equal(store.clear(), 1);
  assert.equal(Deno.statSync(dir).isDirectory && [...Deno.readDirSync(dir)].length, 0);
});

Deno.test("EventStore keeps an unreadable file as it is and refuses to write over it", () => {
  const dir = tempDir();
  const store = EventStore.forTrace(`${dir}/t.parquet`);
  const broken = "event,timestamp\nok,2024-05-01T00:00Z\nbroken,not a time\n";
  Deno.writeTextFileSync(store.path, broken);
  assert.deepEqual(store.list().map((e) => e.name), ["ok"]);
  assert.match(store.problem!, /line 3/);
  assert.throws(() => store.add({ name: "x", at: Date.now() }), /read-only/);
  assert.equal(Deno.readTextFileSync(store.path), broken);
});

Deno.test("EventStore with a FIFO for its file: no blocking read, a problem, nothing written", async () => {
  const dir = tempDir();
  const store = EventStore.forTrace(`${dir}/t.parquet`);
  await new Deno.Command("mkfifo", { args: [store.path] }).output();
  assert.deepEqual(store.list(), []);
  assert.match(store.problem!, /is a FIFO \(named pipe\), not an events file; move it/);
  assert.throws(() => store.add({ name: "x", at: Date.now() }), /read-only/);
  assert.ok(Deno.statSync(store.path).isFifo);
});

Deno.test("import is all or nothing, and export imports back to the same events", () => {
  const dir = tempDir();
  const store = EventStore.forTrace(`${dir}/t.parquet`);
  const bad = store.importCsv("event,timestamp\na,2024-05-01T00:00Z\nb,nope\n", "UTC");
  assert.deepEqual(bad.errors.map((e) => e.line), [3]);
  assert.deepEqual(store.list(), []);
  const good = store.importCsv(
    'event,timestamp,kind\n"say ""hi""",2024-05-01T09:00:00,manual\nspike,2024-05-01T10:00Z,auto\n',
    DENVER,
  );
  assert.deepEqual(good.errors, []);
  assert.equal(good.added.length, 2);
  const exported = store.exportCsv();
  const other = EventStore.forTrace(`${dir}/u.parquet`);
  other.importCsv(exported, "Asia/Tokyo"); // zoned times: the display zone does not matter
  assert.deepEqual(other.list(), store.list());
  assert.equal(formatEventsCsv(other.list()), exported);
});

// ---------------------------------------------------------------- the HTTP routes

function setup() {
  const dir = tempDir();
  const session = new LiveSession({ file: `${dir}/trace.parquet` });
  const app = secure(new Hono(), authConfig({ host: "127.0.0.1" }));
  app.route("/", liveApi(session));
  return { dir, session, app };
}

const json = (body: unknown, headers: Record<string, string> = {}) => ({
  method: "POST",
  headers: { "Content-Type": "application/json", ...headers },
  body: JSON.stringify(body),
});

Deno.test("POST/GET/DELETE /api/events add, list and delete events", async () => {
  const { app, session } = setup();
  let r = await app.request("/api/events", json({ name: "deploy started" }));
  assert.equal(r.status, 201);
  const { event } = await r.json();
  assert.ok(Math.abs(event.at - Date.now()) < 5000, "default time is now");
  r = await app.request(
    "/api/events",
    json({ name: "lunch", date: "2024-05-01", time: "12:00", zone: DENVER }),
  );
  assert.equal((await r.json()).event.time, "2024-05-01T18:00:00.000Z");
  r = await app.request("/api/events", json({ name: "at", timestamp: "2024-05-01T12:00:00Z" }));
  assert.equal(r.status, 201);
  // A form (what an htmx form posts) works too.
  r = await app.request("/api/events", {
    method: "POST",
    body: new URLSearchParams({ name: "form", timestamp: "2024-05-01T00:00:00Z" }),
  });
  assert.equal(r.status, 201);
  r = await app.request("/api/events", json({ name: "x", timestamp: "tomorrow-ish" }));
  assert.equal(r.status, 400);
  assert.match((await r.json()).error, /not a date and time/);
  r = await app.request("/api/events", json({ name: "  " }));
  assert.equal(r.status, 400);

  const list = await (await app.request("/api/events")).json();
  assert.deepEqual(list.events.map((e: { name: string }) => e.name), [
    "form",
    "at",
    "lunch",
    "deploy started",
  ]);
  r = await app.request(`/api/events/${event.id}`, { method: "DELETE" });
  assert.equal(r.status, 200);
  assert.equal((await r.json()).deleted.name, "deploy started");
  r = await app.request(`/api/events/${event.id}`, { method: "DELETE" });
  assert.equal(r.status, 404);
  session.events.add({ name: "CPU% > 1 (now 2.0)", at: Date.now(), kind: "auto" });
  r = await app.request("/api/events?kind=auto", { method: "DELETE" });
  assert.deepEqual(await r.json(), { removed: 1 });
  r = await app.request("/api/events/clear", json({}));
  assert.deepEqual(await r.json(), { removed: 3 });
});

Deno.test("POST /api/events takes epoch ms as a JSON number or a string of digits", async () => {
  const { app } = setup();
  const deploy = "2025-12-05T15:53:20.000Z"; // 1764950000000
  let r = await app.request(
    "/api/events",
    { ...json({}), body: '{"event":"deploy","timestamp":1764950000000}' },
  );
  assert.equal(r.status, 201, await r.clone().text());
  assert.equal((await r.json()).event.time, deploy);
  r = await app.request(
    "/api/events",
    { ...json({}), body: '{"event":"deploy","timestamp":"1764950000000"}' },
  );
  assert.equal(r.status, 201, await r.clone().text());
  // A form's field is text: digits are epoch ms there too.
  r = await app.request("/api/events", {
    method: "POST",
    body: new URLSearchParams({ name: "form", timestamp: "1764950000001" }),
  });
  assert.equal(r.status, 201, await r.clone().text());

  const list = await (await app.request("/api/events")).json();
  assert.deepEqual(
    list.events.map((e: { name: string; at: number; time: string }) => [e.name, e.at, e.time]),
    [
      ["deploy", 1764950000000, deploy],
      ["deploy", 1764950000000, deploy],
      ["form", 1764950000001, "2025-12-05T15:53:20.001Z"],
    ],
  );
});

Deno.test("POST /api/events refuses a time that is not epoch ms or ISO 8601, and says why", async () => {
  const { app, session } = setup();
  const cases: [string, RegExp][] = [
    ["true", /'timestamp' must be epoch milliseconds \(a number\) or ISO 8601 text, not true/],
    ['{"ms":1}', /'timestamp' must be .*, not an object/],
    ["[1764950000000]", /'timestamp' must be .*, not a list/],
    ["[]", /'timestamp' must be .*, not a list/],
    ["1764950000000.5", /not a whole number of milliseconds/],
    ["-1", /before 1970/],
    ["253402300800000", /after the year 9999/],
    ["1e400", /not a finite number/],
    ['"NaN"', /'NaN' is not a date and time \(use epoch milliseconds or ISO 8601/],
    ["1764950000", /1764950000 is too small for epoch milliseconds.*1764950000000/],
    ['"1764950000"', /1764950000 is too small for epoch milliseconds/],
  ];
  for (const [stamp, why] of cases) {
    const r = await app.request("/api/events", {
      ...json({}),
      body: `{"name":"x","timestamp":${stamp}}`,
    });
    assert.equal(r.status, 400, stamp);
    const text = await r.text();
    assert.match(JSON.parse(text).error, why, stamp);
    assert.doesNotMatch(text, /\.ts|at /, "no stack trace");
  }
  assert.deepEqual(session.events.list(), []);
});

Deno.test("parseTime() and CSV import read epoch ms digits as well as ISO 8601", () => {
  assert.equal(parseTime("1764950000000", DENVER).at, 1764950000000);
  assert.equal(parseTime(" 1764950000000 ", "UTC").warning, null);
  assert.throws(() => parseTime("20240501", "UTC"), /too small for epoch milliseconds/);
  assert.throws(() => parseTime("0001-01-01T00:00Z", "UTC"), /before 1970/);
  const r = parseEventsCsv(
    "event,timestamp\ndeploy,1764950000000\niso,2025-12-05T15:53:21Z\n",
    DENVER,
  );
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.events.map((e) => e.at), [1764950000000, 1764950001000]);
  const headless = parseEventsCsv("deploy,1764950000000\n", "UTC");
  assert.equal(headless.header, false);
  assert.deepEqual(headless.events.map((e) => e.at), [1764950000000]);
});

Deno.test("POST /api/events/import reports bad lines (422), imports CSV bodies and forms", async () => {
  const { app } = setup();
  let r = await app.request("/api/events/import?zone=UTC", {
    method: "POST",
    headers: { "Content-Type": "text/csv" },
    body: "event,timestamp\nok,2024-05-01T00:00\nbad,31/12/2024\n",
  });
  assert.equal(r.status, 422);
  const bad = await r.json();
  assert.equal(bad.error, "1 bad row; nothing imported");
  assert.equal(bad.errors[0].line, 3);
  const form = new FormData();
  form.set("file", new File(["event,timestamp\nnaive,2024-07-01T08:00\n"], "e.csv"));
  form.set("zone", DENVER);
  r = await app.request("/api/events/import", { method: "POST", body: form });
  assert.equal(r.status, 200);
  const ok = await r.json();
  assert.equal(ok.added, 1);
  assert.equal(ok.events[0].time, "2024-07-01T14:00:00.000Z");
  r = await app.request("/api/events/export.csv");
  assert.equal(r.headers.get("content-type"), "text/csv; charset=utf-8");
  assert.match(r.headers.get("content-disposition")!, /trace\.parquet\.events\.csv/);
  assert.equal(await r.text(), "event,timestamp,kind\nnaive,2024-07-01T14:00:00.000Z,manual\n");
});

Deno.test("the events routes refuse cross-site requests, big uploads and other methods", async () => {
  const { app, session } = setup();
  const evil = await app.request(
    "http://localhost/api/events",
    json({ name: "x" }, { Origin: "http://evil.example" }),
  );
  assert.equal(evil.status, 403);
  assert.match((await evil.json()).error, /cross-site/);
  const fetchMeta = await app.request(
    "http://localhost/api/events/clear",
    json({}, { "Sec-Fetch-Site": "cross-site" }),
  );
  assert.equal(fetchMeta.status, 403);
  const sameOrigin = await app.request(
    "http://localhost/api/events",
    json({ name: "y" }, { Origin: "http://localhost", "Sec-Fetch-Site": "same-origin" }),
  );
  assert.equal(sameOrigin.status, 201);
  const big = "event,timestamp\n" + "x,2024-05-01T00:00Z\n".repeat(60_000); // 1.2 MB
  const tooBig = await app.request("/api/events/import", {
    method: "POST",
    headers: { "Content-Type": "text/csv" },
    body: big,
  });
  assert.equal(tooBig.status, 413);
  const put = await app.request("/api/events", { method: "PUT", body: "{}" });
  assert.equal(put.status, 405);
  const get = await app.request("/api/events/clear"); // state changes only on POST/DELETE
  assert.equal(get.status, 404);
  assert.deepEqual(session.events.list().map((e) => e.name), ["y"]);
});

Deno.test("POST /api/watch validates and keeps thresholds across sessions", async () => {
  const { app, dir } = setup();
  let r = await app.request("/api/watch", json({ cpu: 90, mem: "80", threads: null }));
  assert.equal(r.status, 200);
  assert.deepEqual((await r.json()).thresholds, { cpu: 90, mem: 80, threads: null });
  r = await app.request("/api/watch", json({ cpu: 120 }));
  assert.equal(r.status, 400);
  r = await app.request("/api/watch", json({ disk: 5 }));
  assert.match((await r.json()).error, /unknown watch 'disk'/);
  const later = new LiveSession({ file: `${dir}/trace.parquet` });
  const app2 = new Hono().onError(onError).route("/", liveApi(later));
  const w = await (await app2.request("/api/watch")).json();
  assert.deepEqual(w.thresholds, { cpu: 90, mem: 80, threads: null });
  assert.equal(w.metrics.length, 6);
});
