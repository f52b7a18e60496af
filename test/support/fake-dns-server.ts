import { createSocket, type RemoteInfo, type Socket } from "node:dgram";

/** An SRV answer of the fake server. */
export interface FakeSrvRecord {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

/** The zone the fake server answers from; mutate it between queries to simulate changes. */
export interface FakeDnsZone {
  a: Record<string, string[]>;
  aaaa: Record<string, string[]>;
  srv: Record<string, FakeSrvRecord[]>;
}

/** A running {@link startFakeDnsServer}. */
export interface FakeDnsServer {
  /** `127.0.0.1:<port>`, for `Resolver.setServers` / a `dns://` URL. */
  readonly address: string;
  readonly zone: FakeDnsZone;
  /** When true every query gets SERVFAIL. */
  failing: boolean;
  /** Number of queries answered. */
  readonly queries: number;
  close(): Promise<void>;
}

const TYPE_A = 1;
const TYPE_AAAA = 28;
const TYPE_SRV = 33;

function encodeName(name: string): Buffer {
  const labels = name.replace(/\.$/, "").split(".").filter((l) => l !== "");
  return Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, "ascii")])), Buffer.from([0])]);
}

function ipv6Bytes(ip: string): Buffer {
  const [head = "", tail = ""] = ip.split("::");
  const h = head === "" ? [] : head.split(":");
  const t = tail === "" ? [] : tail.split(":");
  const groups = ip.includes("::") ? [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t] : h;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

function rdata(type: number, value: string | FakeSrvRecord): Buffer {
  if (type === TYPE_A) return Buffer.from((value as string).split(".").map(Number));
  if (type === TYPE_AAAA) return ipv6Bytes(value as string);
  const srv = value as FakeSrvRecord;
  const head = Buffer.alloc(6);
  head.writeUInt16BE(srv.priority, 0);
  head.writeUInt16BE(srv.weight, 2);
  head.writeUInt16BE(srv.port, 4);
  return Buffer.concat([head, encodeName(srv.target)]);
}

function answer(type: number, value: string | FakeSrvRecord): Buffer {
  const data = rdata(type, value);
  const fixed = Buffer.alloc(12);
  fixed.writeUInt16BE(0xc00c, 0); // pointer to the question's name
  fixed.writeUInt16BE(type, 2);
  fixed.writeUInt16BE(1, 4); // class IN
  fixed.writeUInt32BE(5, 6); // TTL seconds
  fixed.writeUInt16BE(data.length, 10);
  return Buffer.concat([fixed, data]);
}

function parseQuestion(msg: Buffer): { name: string; type: number; end: number } {
  const labels: string[] = [];
  let i = 12;
  while (msg[i] !== 0 && i < msg.length) {
    const len = msg[i]!;
    labels.push(msg.subarray(i + 1, i + 1 + len).toString("ascii"));
    i += len + 1;
  }
  return { name: labels.join(".").toLowerCase(), type: msg.readUInt16BE(i + 1), end: i + 5 };
}

function respond(msg: Buffer, zone: FakeDnsZone, failing: boolean): Buffer {
  const { name, type, end } = parseQuestion(msg);
  const table = type === TYPE_A ? zone.a : type === TYPE_AAAA ? zone.aaaa : type === TYPE_SRV ? zone.srv : {};
  const values: Array<string | FakeSrvRecord> = table[name] ?? [];
  const known = name in zone.a || name in zone.aaaa || name in zone.srv;
  const rcode = failing ? 2 : known ? 0 : 3; // SERVFAIL, NOERROR, NXDOMAIN
  const header = Buffer.alloc(12);
  msg.copy(header, 0, 0, 2); // id
  header.writeUInt16BE(0x8180 | rcode, 2); // QR, RD, RA
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(rcode === 0 ? values.length : 0, 6);
  const answers = rcode === 0 ? values.map((v) => answer(type, v)) : [];
  return Buffer.concat([header, msg.subarray(12, end), ...answers]);
}

/**
 * A tiny authoritative DNS server on 127.0.0.1 (UDP, port 0) answering A,
 * AAAA and SRV queries from an in-memory zone: NXDOMAIN for unknown names,
 * an empty NOERROR for a known name without that record type, SERVFAIL
 * while `failing`. For tests of Ferry's DNS discovery only.
 */
export async function startFakeDnsServer(zone: Partial<FakeDnsZone> = {}): Promise<FakeDnsServer> {
  const socket: Socket = createSocket("udp4");
  const state = { failing: false, queries: 0 };
  const fullZone: FakeDnsZone = { a: zone.a ?? {}, aaaa: zone.aaaa ?? {}, srv: zone.srv ?? {} };
  socket.on("message", (msg: Buffer, rinfo: RemoteInfo) => {
    if (msg.length < 17) return;
    state.queries++;
    socket.send(respond(msg, fullZone, state.failing), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return {
    address: `127.0.0.1:${socket.address().port}`,
    zone: fullZone,
    get failing() {
      return state.failing;
    },
    set failing(value: boolean) {
      state.failing = value;
    },
    get queries() {
      return state.queries;
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
