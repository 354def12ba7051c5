/** Liveness, readiness and the API's own description. */
import { z } from 'zod';
import { Problem } from '../problem.js';
import { defineRoute, type AnyRoute } from '../routing.js';
import { problemResponse } from '../schemas.js';

export interface SystemDeps {
  /** Each check resolves when its dependency answers. */
  readonly readinessChecks: Readonly<Record<string, () => Promise<void>>>;
  readonly openApiDocument: () => unknown;
}

const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref())]);

export function systemRoutes(deps: SystemDeps): AnyRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/healthz',
      summary: 'The process is alive',
      tags: ['system'],
      access: 'public',
      responses: { 200: { description: 'Alive', content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } } } },
      handle({ res }) {
        res.json({ status: 'ok' });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/readyz',
      summary: 'The database and Temporal answer',
      tags: ['system'],
      access: 'public',
      responses: {
        200: { description: 'Ready', content: { 'application/json': { schema: z.object({ status: z.literal('ready'), checks: z.record(z.string(), z.string()) }) } } },
        503: problemResponse('A dependency does not answer'),
      },
      async handle({ res }) {
        const names = Object.keys(deps.readinessChecks);
        const results = await Promise.allSettled(names.map((n) => withTimeout(deps.readinessChecks[n]!(), 2000)));
        const checks = Object.fromEntries(names.map((n, i) => [n, results[i]?.status === 'fulfilled' ? 'ok' : 'down']));
        const down = names.filter((n) => checks[n] !== 'ok');
        if (down.length > 0) throw new Problem(503, 'unavailable', 'Not ready', `Not answering: ${down.join(', ')}.`, { checks });
        res.json({ status: 'ready', checks });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/openapi.json',
      summary: 'This document (OpenAPI 3.1)',
      tags: ['system'],
      access: 'public',
      responses: { 200: { description: 'The OpenAPI document' } },
      handle({ res }) {
        res.json(deps.openApiDocument());
      },
    }),
  ];
}
