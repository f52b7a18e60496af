import "reflect-metadata";
import { Controller, Module } from "@nestjs/common";
import { NestFactory } from "@nestjs/core";
import { MessagePattern, Transport, type MicroserviceOptions } from "@nestjs/microservices";
import { Observable } from "rxjs";
import type { BenchServer, StartServer } from "../../lib/contender-api.js";
import { freePort, type JsonEcho } from "../../lib/json-echo.js";

/**
 * NestJS microservices, TCP transport (JSON over a length-prefixed socket):
 * a controller with two message patterns, `echo` (returns the request) and
 * `stream` (an Observable of `count` messages, which Nest sends one packet
 * each). Decorators are applied as functions, so the bench needs no
 * decorator compiler settings.
 */
class EchoController {
  echo(data: JsonEcho): JsonEcho {
    return data;
  }
  stream(data: JsonEcho): Observable<JsonEcho> {
    return new Observable((sub) => {
      const m = { payload: data.payload };
      for (let i = 0; i < (data.count ?? 0); i++) sub.next(m);
      sub.complete();
    });
  }
}
for (const [method, pattern] of [["echo", "echo"], ["stream", "stream"]] as const) {
  MessagePattern(pattern)(EchoController.prototype, method, Object.getOwnPropertyDescriptor(EchoController.prototype, method)!);
}
Controller()(EchoController);
class EchoModule {}
Module({ controllers: [EchoController] })(EchoModule);

export const startServer: StartServer = async ({ host }): Promise<BenchServer> => {
  const port = await freePort(host);
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(EchoModule, { transport: Transport.TCP, options: { host, port }, logger: false });
  await app.listen();
  return { address: `${host}:${port}`, close: () => app.close() };
};
