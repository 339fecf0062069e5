import assert from "node:assert/strict";
import {
  parseDiskstats,
  parseFileNr,
  parseLoadavg,
  parseMeminfo,
  parseNetDev,
  parsePressure,
  parseProcStat,
  parseStat,
  vmstatField,
} from "../src/collect/proc/parse.ts";

Deno.test("parseProcStat() takes the name between the first '(' and the last ')'", () => {
  const line = "4242 (a) (b c)) R 1 4242 4242 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 5 0 " +
    "1234 1000 25 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
  const st = parseProcStat(line)!;
  assert.equal(st.pid, 4242);
  assert.equal(st.name, "a) (b c)");
  assert.equal(st.state, "R");
  assert.equal(st.ppid, 1);
  assert.equal(st.utime, 7);
  assert.equal(st.stime, 3);
  assert.equal(st.numThreads, 5);
  assert.equal(st.rssPages, 25);
});

Deno.test("parseProcStat() rejects empty and truncated input", () => {
  assert.equal(parseProcStat(""), null);
  assert.equal(parseProcStat("12 (cut"), null);
  assert.equal(parseProcStat("12 (x) R 1"), null);
});

Deno.test("parseStat() reads per-CPU lines and skips offline CPUs", () => {
  const text = "cpu  10 0 5 100 1 0 0 0 0 0\ncpu0 5 0 2 50 1 0 0 0 0 0\n" +
    "cpu2 5 0 3 50 0 0 0 0 0 0\nctxt 999\nintr 77 1 2\nbtime 1795635514\nprocesses 2972\n" +
    "procs_running 3\nprocs_blocked 1\n";
  const s = parseStat(text);
  assert.deepEqual([...s.cpus.keys()], [0, 2]);
  assert.equal(s.total?.idle, 100);
  assert.equal(s.contextSwitches, 999);
  assert.equal(s.interrupts, 77);
  assert.equal(s.procsRunning, 3);
  assert.equal(s.procsBlocked, 1);
  assert.equal(s.bootTime, 1795635514);
  assert.equal(s.forks, 2972);
});

Deno.test("parseStat() of empty or malformed text yields nothing, not zeros", () => {
  const s = parseStat("cpu0 x y z\nctxt\n");
  assert.equal(s.cpus.size, 0);
  assert.equal(s.total, null);
  assert.equal(s.contextSwitches, null);
});

Deno.test("parseMeminfo() converts kB to bytes and keeps unitless counts", () => {
  const m = parseMeminfo("MemTotal:       16000 kB\nHugePages_Total:       4\nbad line\n");
  assert.equal(m.get("MemTotal"), 16000 * 1024);
  assert.equal(m.get("HugePages_Total"), 4);
  assert.equal(m.size, 2);
});

Deno.test("parseLoadavg() reads loads, runnable and total threads", () => {
  assert.deepEqual(parseLoadavg("0.03 0.08 1.50 2/77 2254\n"), {
    load1: 0.03,
    load5: 0.08,
    load15: 1.5,
    running: 2,
    threads: 77,
  });
  assert.equal(parseLoadavg(""), null);
});

Deno.test("parsePressure() reads avg10 of some and full; full may be absent", () => {
  const p = parsePressure("some avg10=1.25 avg60=0.26 avg300=0.59 total=4995222\n");
  assert.deepEqual(p, { some: 1.25, full: null, someTotalUs: 4995222, fullTotalUs: null });
  const q = parsePressure(
    "some avg10=0.02 avg60=0 avg300=0 total=1\nfull avg10=3.50 avg60=0 avg300=0 total=0\n",
  );
  assert.equal(q.full, 3.5);
  assert.equal(q.fullTotalUs, 0);
});

Deno.test("parseDiskstats() counts sectors as 512 bytes", () => {
  const [d] = parseDiskstats(
    " 254       0 vda 46358 100 1544410 3000 3092 200 836848 4000 0 5372 7000 0 0 0 0 0 0\n",
  );
  assert.equal(d?.name, "vda");
  assert.equal(d?.reads, 46358);
  assert.equal(d?.readBytes, 1544410 * 512);
  assert.equal(d?.writeBytes, 836848 * 512);
  assert.equal(d?.busyMs, 5372);
  assert.equal(d?.readMs, 3000);
  assert.equal(d?.weightedMs, 7000);
  assert.equal(d?.flushMs, 0);
  // Kernels before 4.18 print 14 fields: no discards, no flushes.
  const [old] = parseDiskstats("   8       0 sda 1 2 3 4 5 6 7 8 9 10 11\n");
  assert.equal(old?.weightedMs, 11);
  assert.equal(old?.discards, null);
  assert.equal(old?.flushes, null);
  assert.deepEqual(parseDiskstats("short line\n"), []);
});

Deno.test("parseNetDev() skips the two header lines", () => {
  const text = "Inter-|   Receive |  Transmit\n face |bytes packets|bytes\n" +
    "  eth0: 100 2 3 4 8 9 10 11 200 5 6 7 12 13 14 15\n";
  const [n] = parseNetDev(text);
  assert.deepEqual(n, {
    iface: "eth0",
    rxBytes: 100,
    rxPackets: 2,
    rxErrs: 3,
    rxDrop: 4,
    rxFifo: 8,
    rxFrame: 9,
    rxCompressed: 10,
    rxMulticast: 11,
    txBytes: 200,
    txPackets: 5,
    txErrs: 6,
    txDrop: 7,
    txFifo: 12,
    txColls: 13,
    txCarrier: 14,
    txCompressed: 15,
  });
});

Deno.test("parseFileNr() takes the first field", () => {
  assert.equal(parseFileNr("304\t0\t2466186\n"), 304);
  assert.equal(parseFileNr(""), null);
});

Deno.test("vmstatField() finds a field anywhere in /proc/vmstat, or says it is absent", () => {
  const text = "nr_free_pages 100\npswpin 7\npswpout 9\n";
  assert.equal(vmstatField(text, "pswpin"), 7);
  assert.equal(vmstatField(text, "pswpout"), 9);
  assert.equal(vmstatField(text, "nr_free_pages"), 100);
  assert.equal(vmstatField(text, "pgfault"), null);
  assert.equal(vmstatField("", "pswpin"), null);
});
