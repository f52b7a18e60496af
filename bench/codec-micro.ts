/**
 * Encode and decode cost per message, Ferry's compiled codec (src/codec)
 * against protobuf-es, in one process, for a few message shapes:
 *
 *   flock /tmp/ferry-bench.lock npx tsx --conditions=ferry-source bench/codec-micro.ts [--seconds=1]
 *
 * Encode rows: protobuf-es `toBinary(create(init))` (what Ferry paid per
 * streamed message before), protobuf-es `toBinary(message)`, and the
 * compiled codec measuring and writing into a reused 1 MiB slab (what the
 * transports do) and `encode()` into a new array. Decode rows: protobuf-es
 * `fromBinary` (the codec decodes with it too). Runs compiled by tsc like the
 * RPC benchmark (bench/lib/compiled.ts), single-threaded; ns per message is
 * the median of 5 rounds. A shared machine moves absolute figures; compare
 * rows of one run.
 */
import { create, fromBinary, toBinary, type DescMessage } from "@bufbuild/protobuf";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { messageCodec } from "../src/codec/message-codec.js";
import { Maps3Schema, Nested3Schema, Repeated3Schema, Scalars3Schema } from "../test/gen/ferry/codec/v1/kinds3_pb.js";
import { EchoResponseSchema } from "../test/gen/ferry/test/v1/echo_pb.js";
import { compileBench, compiledPath, RUNNING_COMPILED } from "./lib/compiled.js";

interface Shape {
  name: string;
  schema: DescMessage;
  init: (i: number) => Record<string, unknown>;
}

const payload = new Uint8Array(100).fill(7);
const scalars = (i: number) => ({ fInt32: i, fInt64: BigInt(i) * 1000003n, fString: "hello world", fDouble: i / 3, fBool: true, fEnum: 2, fFixed64: 12345n });
const SHAPES: Shape[] = [
  { name: "EchoResponse (100-byte payload, index)", schema: EchoResponseSchema, init: (i) => ({ payload, index: i }) },
  { name: "Scalars3 (7 scalar fields incl. 64-bit)", schema: Scalars3Schema, init: scalars },
  { name: "Repeated3 (packed ints, strings, 4 messages)", schema: Repeated3Schema, init: (i) => ({ rInt32: [1, 2, 3, i, -1], rSint64: [5n, -5n], rString: ["a", "bb", "ccc"], rMessage: [scalars(i), scalars(1), scalars(2), scalars(3)] }) },
  { name: "Maps3 (8 string and message entries)", schema: Maps3Schema, init: (i) => ({ mStringString: { a: "x", b: "y", c: "z", d: String(i) }, mSint64Message: { "1": scalars(i), "-2": scalars(2), "3": scalars(3), "4": scalars(4) } }) },
  { name: "Nested3 (3 levels, timestamp)", schema: Nested3Schema, init: (i) => ({ name: "root", child: { name: "c", child: { name: "gc", scalars: scalars(i) } }, at: { seconds: 1700000000n, nanos: i } }) },
];

function seconds(): number {
  const arg = process.argv.find((a) => a.startsWith("--seconds="));
  return arg === undefined ? 0.5 : Number(arg.slice("--seconds=".length));
}

/** ns per call of `fn` over a round of about `secs` seconds, median of 5 rounds. */
function measure(fn: (i: number) => void, secs: number): number {
  let n = 1000;
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  const warm = Number(process.hrtime.bigint() - start);
  n = Math.max(1000, Math.round((secs * 1e9 * n) / Math.max(warm, 1)));
  const rounds: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn(i);
    rounds.push(Number(process.hrtime.bigint() - t) / n);
  }
  return rounds.sort((a, b) => a - b)[2];
}

function run(): void {
  const secs = seconds();
  const slab = Buffer.allocUnsafe(1 << 20);
  let pos = 0;
  console.log(`Node ${process.version}; ns per message, median of 5 rounds of ~${secs} s\n`);
  console.log("| message | bytes | protobuf-es create+toBinary | protobuf-es toBinary | compiled into slab | compiled encode() | speed-up (slab vs create+toBinary) | protobuf-es fromBinary |");
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|");
  for (const { name, schema, init } of SHAPES) {
    const codec = messageCodec(schema);
    const message = create(schema, init(1) as never);
    const bytes = toBinary(schema, message);
    if (!Buffer.from(codec.encode(init(1))).equals(Buffer.from(bytes))) throw new Error(`${name}: compiled bytes differ from protobuf-es`);
    const createEncode = measure((i) => toBinary(schema, create(schema, init(i) as never)), secs);
    const encodeOnly = measure(() => toBinary(schema, message), secs);
    const slabEncode = measure((i) => {
      const n = codec.measure(init(i));
      if (pos + n > slab.length) pos = 0;
      pos = codec.writeMeasured(slab, pos);
    }, secs);
    const newArray = measure((i) => codec.encode(init(i)), secs);
    const decode = measure(() => fromBinary(schema, bytes), secs);
    const f = (x: number) => x.toFixed(0);
    console.log(`| ${name} | ${bytes.length} | ${f(createEncode)} | ${f(encodeOnly)} | ${f(slabEncode)} | ${f(newArray)} | ${(createEncode / slabEncode).toFixed(2)}× | ${f(decode)} |`);
  }
}

if (RUNNING_COMPILED) run();
else {
  compileBench();
  const r = spawnSync(process.execPath, [compiledPath(fileURLToPath(import.meta.url)), ...process.argv.slice(2)], { stdio: "inherit" });
  process.exitCode = r.status ?? 1;
}
