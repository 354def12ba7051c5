/**
 * The route table: each route declares its access (public or the roles of SPEC §1), its input schemas and its
 * responses once; the same declaration mounts the Express handler and documents the route in OpenAPI.
 */
import type { OpenAPIRegistry, RouteConfig } from '@asteasolutions/zod-to-openapi';
import type { Request, RequestHandler, Response, Router } from 'express';
import type { z } from 'zod';
import type { Database } from '../db/client.js';
import type { Principal, Role } from '../domain/roles.js';
import { authenticate, principalOf } from './auth.js';
import { findUnstorableText } from './input-guards.js';
import { Problem } from './problem.js';

export type Access = 'public' | readonly Role[];

export interface RouteContext<B, Q, P> {
  readonly req: Request;
  readonly res: Response;
  readonly body: B;
  readonly query: Q;
  readonly params: P;
  /** Undefined only on public routes. */
  readonly principal: Principal;
}

export interface RouteDef<B = unknown, Q = unknown, P = unknown> {
  readonly method: 'get' | 'post' | 'patch' | 'delete';
  /** OpenAPI syntax: /v1/orders/{id}. */
  readonly path: string;
  readonly summary: string;
  readonly tags: readonly string[];
  readonly access: Access;
  readonly body?: z.ZodType<B>;
  readonly query?: z.ZodType<Q>;
  /** A param that does not parse names nothing that exists: the answer is 404. */
  readonly params?: z.ZodType<P>;
  readonly headers?: z.ZodObject;
  readonly responses: RouteConfig['responses'];
  handle(ctx: RouteContext<B, Q, P>): Promise<void> | void;
}

export const defineRoute = <B = undefined, Q = undefined, P = undefined>(def: RouteDef<B, Q, P>): RouteDef<B, Q, P> => def;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a table of routes with different input types
export type AnyRoute = RouteDef<any, any, any>;

const expressPath = (openApiPath: string): string => openApiPath.replace(/\{(\w+)\}/g, ':$1');

/** Each issue names its field and zod's code, so that a page can say it beside the field in the reader's language. */
const issues = (error: z.ZodError): { path: string; message: string; code: string }[] =>
  error.issues.map((i) => ({ path: i.path.join('.') || '(body)', message: i.message, code: i.code }));

function handlerFor(route: AnyRoute): RequestHandler {
  return async (req, res) => {
    const principal = route.access === 'public' ? (res.locals.principal as Principal) : principalOf(res);
    if (route.access !== 'public' && !route.access.includes(principal.role)) {
      throw Problem.forbidden(`The role ${principal.role} may not call ${route.method.toUpperCase()} ${route.path}.`, 'role-not-allowed');
    }
    let params: unknown = req.params;
    if (route.params !== undefined) {
      const parsed = route.params.safeParse(req.params);
      if (!parsed.success) throw Problem.notFound();
      params = parsed.data;
    }
    let query: unknown = req.query;
    if (route.query !== undefined) {
      const unstorableParam = findUnstorableText(req.query);
      if (unstorableParam !== undefined) {
        throw Problem.badRequest('The query string holds a NUL character (%00), which no parameter accepts.', [
          { path: unstorableParam, message: 'NUL characters are not accepted' },
        ]);
      }
      const parsed = route.query.safeParse(req.query);
      if (!parsed.success) throw Problem.badRequest('The query string is not valid.', issues(parsed.error));
      query = parsed.data;
    }
    let body: unknown = undefined;
    if (route.body !== undefined) {
      if (!req.is('application/json')) {
        throw new Problem(415, 'unsupported-media-type', 'Unsupported media type', 'Send the body as application/json.');
      }
      const unstorable = findUnstorableText(req.body);
      if (unstorable !== undefined) {
        throw Problem.badRequest('The body holds text that cannot be stored: a NUL character (U+0000) or an unpaired UTF-16 surrogate.', [
          { path: unstorable, message: 'NUL characters and unpaired surrogates are not accepted' },
        ]);
      }
      const parsed = route.body.safeParse(req.body);
      if (!parsed.success) throw Problem.badRequest('The body is not valid.', issues(parsed.error));
      body = parsed.data;
    }
    await route.handle({ req, res, body, query, params, principal });
  };
}

export function mountRoutes(router: Router, routes: readonly AnyRoute[], db: Database): void {
  const auth = authenticate(db);
  for (const route of routes) {
    const chain: RequestHandler[] = route.access === 'public' ? [] : [auth];
    router[route.method](expressPath(route.path), ...chain, handlerFor(route));
  }
}

export function documentRoutes(registry: OpenAPIRegistry, routes: readonly AnyRoute[]): void {
  for (const route of routes) {
    const request: NonNullable<RouteConfig['request']> = {};
    if (route.body !== undefined) request.body = { content: { 'application/json': { schema: route.body } }, required: true };
    if (route.query !== undefined) request.query = route.query as NonNullable<RouteConfig['request']>['query'];
    if (route.params !== undefined) request.params = route.params as NonNullable<RouteConfig['request']>['params'];
    if (route.headers !== undefined) request.headers = route.headers;
    registry.registerPath({
      method: route.method,
      path: route.path,
      summary: route.summary,
      tags: [...route.tags],
      ...(route.access === 'public' ? { security: [] } : { 'x-roles': [...route.access] }),
      request,
      responses: route.responses,
    });
  }
}
