/**
 * A small HTTP endpoint that serves a prom-client registry for Prometheus to
 * scrape: `GET /metrics` (anything else is 404). Long-running commands start
 * one when given `--metrics-port`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Option } from 'commander';
import { Registry } from 'prom-client';
import { ConfigError } from '../errors/index.js';

/** Options for {@link startMetricsServer}. */
export interface MetricsServerOptions {
  registry: Registry;
  /** Port to listen on; 0 picks a free one. */
  port: number;
  /** Address to bind (default `127.0.0.1`; `0.0.0.0` to be scraped from other hosts). */
  host?: string;
}

/** A running metrics endpoint. */
export interface MetricsServer {
  /** `http://HOST:PORT/metrics` */
  readonly url: string;
  close(): Promise<void>;
}

/** Serve `registry` on `GET /metrics`. Rejects with a ConfigError naming the port when it cannot listen. */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const host = options.host ?? '127.0.0.1';
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('spillway serves metrics on GET /metrics\n');
      return;
    }
    options.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': options.registry.contentType }).end(text),
      (error: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`could not collect metrics: ${String(error)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (cause: NodeJS.ErrnoException) =>
      reject(new ConfigError(`--metrics-port ${options.port}: cannot listen on ${host}:${options.port} (${cause.code ?? cause.message}); pick a free port`, { field: 'metricsPort', cause })),
    );
    server.listen(options.port, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Parse a `--metrics-port` value: a whole number 0..65535, else a ConfigError that says so. */
export function parseMetricsPort(raw: string): number {
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new ConfigError(`--metrics-port must be a port number from 0 to 65535, got ${JSON.stringify(raw)}`, { field: 'metricsPort' });
  }
  return port;
}

/** The `--metrics-port <port>` option for a long-running command (validated by {@link parseMetricsPort}). */
export function metricsPortOption(): Option {
  return new Option('--metrics-port <port>', 'serve Prometheus metrics on http://127.0.0.1:PORT/metrics while the command runs').argParser(parseMetricsPort);
}

/**
 * For a command given `--metrics-port`: a fresh registry for its bus and a
 * server for it; without a port, neither. Close the server when the command ends.
 */
export async function serveMetricsIfAsked(port: number | undefined): Promise<{ registry?: Registry; server?: MetricsServer }> {
  if (port === undefined) return {};
  const registry = new Registry();
  return { registry, server: await startMetricsServer({ registry, port }) };
}
