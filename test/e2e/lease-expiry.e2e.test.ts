/**
 * Lease expiry on a real member with the default election timeout (1 s, so the minimum TTL is
 * 2 s): a key attached to a 2 s lease disappears once it expires, a watcher sees the DELETE, and
 * the lease is gone from timetolive and leases; a lease kept alive over the keepalive stream
 * outlives its TTL.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { startMember, type Member } from "./harness.js";
import { b64, call, currentRev, learnIds, Lines, openStream, sleep, type Ids } from "./client.js";

let m: Member;
let B: string;
let ids: Ids;

beforeAll(async () => {
  m = await startMember();
  B = m.clientURL;
  ids = await learnIds(B);
});

afterAll(async () => {
  await m.stop();
});

it("an expired lease deletes its keys (watch sees the DELETE); a kept-alive lease survives", async () => {
  const hdr = ids.hdr;
  expect(await call(B, "/v3/lease/grant", `{"TTL":1,"ID":"100"}`)).toEqual([200, `{"header":${hdr(1)},"ID":"100","TTL":"2"}`]);
  expect(await call(B, "/v3/lease/grant", `{"TTL":2,"ID":"200"}`)).toEqual([200, `{"header":${hdr(1)},"ID":"200","TTL":"2"}`]);
  expect((await call(B, "/v3/kv/put", `{"key":"${b64("gone")}","value":"${b64("v")}","lease":"100"}`))[0]).toBe(200);
  expect((await call(B, "/v3/kv/put", `{"key":"${b64("kept")}","value":"${b64("v")}","lease":"200"}`))[0]).toBe(200);
  const granted = Date.now();
  const watch = new Lines(await fetch(B + "/v3/watch", { method: "POST", body: `{"create_request":{"key":"${b64("gone")}"}}` }));
  expect(await watch.next()).toBe(`{"result":{"header":${hdr(3)},"created":true}}`);

  // Keep lease 200 alive every 500 ms over one stream while lease 100 runs out.
  const ka = openStream(B, "/v3/lease/keepalive");
  ka.write(`{"ID":"200"}`);
  const kaLines = await ka.lines;
  expect(await kaLines.next()).toBe(`{"result":{"header":${hdr(3)},"ID":"200","TTL":"2"}}`);
  let keeping = true;
  const keeper = (async () => {
    while (keeping) {
      await sleep(500);
      ka.write(`{"ID":"200"}`);
      await kaLines.next();
    }
  })();

  expect(await watch.next(5000)).toBe(`{"result":{"header":${hdr(4)},"events":[{"type":"DELETE","kv":{"key":"${b64("gone")}","mod_revision":"4"}}]}}`);
  // Never before its TTL (a safety property: timers fire late, never early, so no upper bound is
  // asserted here — the watch's own wait bounds it).
  expect(Date.now() - granted).toBeGreaterThanOrEqual(1900);
  expect(await call(B, "/v3/kv/range", `{"key":"${b64("gone")}"}`)).toEqual([200, `{"header":${hdr(4)}}`]);
  expect(await call(B, "/v3/lease/timetolive", `{"ID":"100"}`)).toEqual([200, `{"header":${hdr(4)},"ID":"100","TTL":"-1"}`]);
  expect(await call(B, "/v3/lease/leases", ``)).toEqual([200, `{"header":${hdr(4)},"leases":[{"ID":"200"}]}`]);

  // Past lease 200's own TTL since the grant: still there.
  await sleep(Math.max(0, 2600 - (Date.now() - granted)));
  expect(JSON.parse((await call(B, "/v3/kv/range", `{"key":"${b64("kept")}","count_only":true}`))[1]).count).toBe("1");
  keeping = false;
  await keeper;
  ka.close();
  expect(await kaLines.next()).toBeUndefined();
  await watch.cancel();
  expect(await currentRev(B)).toBe(4);
});
