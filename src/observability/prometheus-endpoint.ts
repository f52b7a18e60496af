import http from "node:http";
import type { AddressInfo } from "node:net";
import type { MetricReader } from "@opentelemetry/sdk-metrics";
import { importPeer } from "../util/import-peer.js";

/** A running Prometheus scrape endpoint. */
export interface PrometheusEndpoint {
  /** The metric reader to give the MeterProvider (a PrometheusExporter). */
  readonly reader: MetricReader;
  /** `http://host:port/metrics`. */
  readonly url: string;
  /** Stops the HTTP server. */
  close(): Promise<void>;
}

/**
 * Starts an HTTP server answering `GET /metrics` with the Prometheus text
 * exposition format (version 0.0.4) rendered by
 * `@opentelemetry/exporter-prometheus`; any other path answers 404. Ferry
 * runs the server itself (the exporter's own is not started) so that port 0
 * works and the bound address is known.
 *
 * @throws FerryError FAILED_PRECONDITION when `@opentelemetry/exporter-prometheus`
 *   is not installed; the listener's error (e.g. `EADDRINUSE`) otherwise.
 */
export async function startPrometheusEndpoint(port: number, host: string): Promise<PrometheusEndpoint> {
  const { PrometheusExporter } = await importPeer("@opentelemetry/exporter-prometheus", () => import("@opentelemetry/exporter-prometheus"), "the Prometheus /metrics endpoint");
  const reader = new PrometheusExporter({ preventServerStart: true });
  const server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/metrics" && (req.method === "GET" || req.method === "HEAD")) return reader.getMetricsRequestHandler(req, res);
    res.statusCode = 404;
    res.end("not found: metrics are at /metrics\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    // The exporter may bring its own copy of sdk-metrics: the reader is structurally the same.
    reader: reader as unknown as MetricReader,
    url: `http://${shownHost}:${address.port}/metrics`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
