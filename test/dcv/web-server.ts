/**
 * An applicant's web site on 127.0.0.1 (http, or https with the given certificate): serves the files the test puts
 * under /.well-known/pki-validation/, answers the redirects it is given, 404 otherwise, and can hang (accept the
 * connection, never answer) as a dead backend behind a load balancer would.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface SiteRequest {
  readonly host: string | undefined;
  readonly path: string;
}

export interface FakeSite {
  readonly port: number;
  /** path → body, served 200 text/plain. */
  readonly files: Map<string, string>;
  /** path → [status, Location]. */
  readonly redirects: Map<string, [number, string]>;
  /** While true, requests are read and never answered. */
  hang: boolean;
  readonly requests: readonly SiteRequest[];
  close(): Promise<void>;
}

export async function startSite(tls?: { key: string; cert: string }): Promise<FakeSite> {
  const files = new Map<string, string>();
  const redirects = new Map<string, [number, string]>();
  const requests: SiteRequest[] = [];
  const site = { hang: false };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = req.url ?? '/';
    requests.push({ host: req.headers.host, path });
    if (site.hang) return;
    const redirect = redirects.get(path);
    if (redirect !== undefined) {
      res.writeHead(redirect[0], { location: redirect[1] }).end();
      return;
    }
    const body = files.get(path);
    if (body === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(body);
  };

  const server: Server = tls === undefined ? createHttpServer(handle) : createHttpsServer(tls, handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(site, {
    port,
    files,
    redirects,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        // Hanging requests keep their sockets: close them, or close() would wait for them.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
