import "reflect-metadata";
import { ClientProxyFactory, Transport } from "@nestjs/microservices";
import { firstValueFrom, lastValueFrom } from "rxjs";
import { count } from "rxjs/operators";
import type { BenchClient, ConnectClient } from "../../lib/contender-api.js";
import { base64Bytes, toBase64, type JsonEcho } from "../../lib/json-echo.js";
import { parseHostPort } from "../../lib/net-server.js";

/** NestJS microservices TCP client (`ClientProxyFactory`, one connection): `send("echo")` per call, `send("stream")` counted to its end. */
export const connectClient: ConnectClient = async ({ address }): Promise<BenchClient> => {
  const client = ClientProxyFactory.create({ transport: Transport.TCP, options: parseHostPort(address) });
  await client.connect();
  return {
    unary: async (payload) => base64Bytes((await firstValueFrom(client.send<JsonEcho, JsonEcho>("echo", { payload: toBase64(payload) }))).payload),
    serverStream: (n, payload) => lastValueFrom(client.send<JsonEcho, JsonEcho>("stream", { payload: toBase64(payload), count: n }).pipe(count())),
    close: async () => client.close(),
  };
};
