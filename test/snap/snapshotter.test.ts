/** The snapshotter suite over memory-fs, the .snap byte format by hand, and crash durability. */
import { describe, expect, test } from "vitest";
import { encodeSnapshot } from "../../src/raft/index.js";
import { Snapshotter, marshalSnapFile, snapName, unmarshalSnapFile } from "../../src/snap/index.js";
import { crc32c } from "../../src/storage/crc32c.js";
import { MemoryFS } from "../../src/wal/index.js";
import { runSnapSuite, snap } from "./snap-suite.js";

runSnapSuite("memory-fs", async () => {
  const fs = new MemoryFS();
  await fs.mkdirp("/data");
  return { fs, root: "/data", cleanup: async () => {} };
});

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe(".snap file format", () => {
  test("snappb.snapshot {crc=1 (varint, always), data=2 (marshalled raftpb.Snapshot)}", () => {
    const s = snap(1, 2, "x");
    const data = encodeSnapshot(s);
    const crc = crc32c(data);
    let varint = "";
    for (let v = crc; ; v = Math.floor(v / 128)) {
      if (v < 128) {
        varint += v.toString(16).padStart(2, "0");
        break;
      }
      varint += ((v % 128) | 0x80).toString(16).padStart(2, "0");
    }
    const want = "08" + varint + "12" + data.length.toString(16).padStart(2, "0") + hex(data);
    expect(hex(marshalSnapFile(s))).toBe(want);
    expect(unmarshalSnapFile(marshalSnapFile(s))).toEqual(s);
  });

  test("a saved snapshot survives a crash (file and directory synced)", async () => {
    const fs = new MemoryFS();
    await fs.mkdirp("/snap");
    await new Snapshotter(fs, "/snap").saveSnap(snap(3, 7));
    fs.crash();
    expect(await fs.list("/snap")).toEqual([snapName(3, 7)]);
    expect(await new Snapshotter(fs, "/snap").load()).toEqual(snap(3, 7));
  });
});
