/**
 * The codec server: the Temporal Web UI and `temporal workflow show --codec-endpoint <base>/codec` send payloads here
 * to have them decrypted (or encrypted) with the processes' own codec. Staff and auditors only; browsers only from
 * the configured origins (CODEC_CORS_ORIGIN). Outside /v1, as Temporal fixes the paths (`/decode`, `/encode`).
 */
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { Database } from '../../db/client.js';
import { STAFF_ROLES } from '../../domain/roles.js';
import { Problem } from '../problem.js';
import { defineRoute, documentRoutes, mountRoutes, type AnyRoute } from '../routing.js';
import { problemResponse } from '../schemas.js';

export const DEFAULT_CODEC_CORS_ORIGIN = 'http://127.0.0.1:8233';

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64');
/** A Payload in the protobuf JSON mapping Temporal's tools send: metadata values and data are base64. */
const jsonPayload = z.object({ metadata: z.record(z.string(), base64).optional(), data: base64.optional() });
const payloadsBody = z.object({ payloads: z.array(jsonPayload).max(1000) });
type JsonPayload = z.infer<typeof jsonPayload>;

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))])),
  data: new Uint8Array(Buffer.from(p.data ?? '', 'base64')),
});
const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')])),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

export function codecRoutes(deps: { readonly codec: PayloadCodec }): AnyRoute[] {
  const route = (op: 'decode' | 'encode', summary: string): AnyRoute =>
    defineRoute({
      method: 'post',
      path: `/codec/${op}`,
      summary,
      tags: ['audit'],
      access: [...STAFF_ROLES],
      body: payloadsBody,
      responses: {
        200: { description: 'The payloads, in the same order', content: { 'application/json': { schema: payloadsBody } } },
        400: problemResponse('Not a list of payloads'),
        401: problemResponse('No valid API key or access token'),
        403: problemResponse('Not staff nor auditor'),
        422: problemResponse('A payload does not decrypt (altered, or under an unknown key id)'),
      },
      async handle({ body, res }) {
        let out: Payload[];
        try {
          out = await deps.codec[op](body.payloads.map(fromJson));
        } catch (err) {
          throw Problem.unprocessable('payload-not-decodable', (err as Error).message);
        }
        res.json({ payloads: out.map(toJson) });
      },
    });
  return [route('decode', 'Decrypt Temporal payloads (codec server)'), route('encode', 'Encrypt Temporal payloads (codec server)')];
}

/**
 * The codec routes in the OpenAPI document (api/openapi.ts), described by the very definitions the codec server
 * mounts; served only by codecServer, which has the codec.
 */
export function documentCodecRoutes(registry: OpenAPIRegistry): void {
  const documentationOnly = (): Promise<Payload[]> => Promise.reject(new Error('documentation only: the codec server has the codec'));
  documentRoutes(registry, codecRoutes({ codec: { encode: documentationOnly, decode: documentationOnly } }));
}

/** CORS for the Temporal Web UI: its preflight carries no credentials, so it is answered before authentication. */
function cors(origins: readonly string[]): RequestHandler {
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin !== undefined && origins.includes(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.vary('Origin');
      if (req.method === 'OPTIONS') {
        res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
        res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type, X-Namespace');
        res.setHeader('Access-Control-Max-Age', '600');
        res.status(204).end();
        return;
      }
    }
    next();
  };
}

/** The codec server as Express middleware: mount it after the JSON body parser and `acceptAccessTokens`. */
export function codecServer(deps: { readonly db: Database; readonly codec: PayloadCodec; readonly corsOrigin?: string | undefined }): Router {
  const origins = (deps.corsOrigin ?? DEFAULT_CODEC_CORS_ORIGIN).split(',').map((o) => o.trim().replace(/\/+$/, '')).filter((o) => o !== '');
  const router = Router();
  router.use('/codec', cors(origins));
  mountRoutes(router, codecRoutes(deps), deps.db);
  return router;
}
