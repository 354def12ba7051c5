/**
 * The pages' only way to the server: the same /v1 API as every caller, authenticated by the session cookie, each
 * change carrying the page's CSRF token. A problem+json answer becomes an ApiProblem the form shows beside its fields.
 */
import { boot } from './boot.js';

export interface FieldIssue {
  readonly path: string;
  readonly message: string;
  readonly code?: string;
}

export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    /** The last segment of the problem's type (urn:certflow:problem:<slug>); 'network' when nothing answered. */
    readonly slug: string,
    readonly detail: string,
    readonly errors: readonly FieldIssue[] = [],
    readonly body: Record<string, unknown> = {},
  ) {
    super(detail);
  }
}

const slugOf = (type: unknown): string => (typeof type === 'string' ? (type.split(':').pop() ?? 'unknown') : 'unknown');

function toProblem(status: number, text: string): ApiProblem {
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON: the status says enough
  }
  const errors = Array.isArray(body.errors) ? (body.errors as FieldIssue[]) : [];
  return new ApiProblem(status, slugOf(body.type), typeof body.detail === 'string' ? body.detail : '', errors, body);
}

export interface CallOptions {
  readonly json?: unknown;
  readonly form?: FormData;
  readonly headers?: Record<string, string>;
  /** Upload progress, 0 to 1 (the request then goes through XMLHttpRequest, which reports it). */
  readonly onProgress?: (fraction: number) => void;
  /** The answer as a Blob (a PDF, a certificate) instead of JSON. */
  readonly blob?: boolean;
}

function headersFor(method: string, opts: CallOptions): Record<string, string> {
  const headers: Record<string, string> = { accept: 'application/json, application/problem+json', ...opts.headers };
  if (method !== 'GET') headers['x-csrf-token'] = boot.csrfToken;
  if (opts.json !== undefined) headers['content-type'] = 'application/json';
  return headers;
}

function viaXhr(method: string, path: string, opts: CallOptions): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, path);
    for (const [k, v] of Object.entries(headersFor(method, opts))) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) opts.onProgress?.(e.loaded / e.total);
    };
    xhr.onload = () => resolve({ status: xhr.status, text: xhr.responseText });
    xhr.onerror = () => reject(new ApiProblem(0, 'network', ''));
    xhr.send(opts.form ?? (opts.json === undefined ? null : JSON.stringify(opts.json)));
  });
}

export async function api<T = unknown>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, opts: CallOptions = {}): Promise<T> {
  if (opts.onProgress !== undefined) {
    const { status, text } = await viaXhr(method, path, opts);
    if (status >= 400) throw toProblem(status, text);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: headersFor(method, opts),
      body: opts.form ?? (opts.json === undefined ? undefined : JSON.stringify(opts.json)),
      credentials: 'same-origin',
    });
  } catch {
    throw new ApiProblem(0, 'network', '');
  }
  if (res.status >= 400) throw toProblem(res.status, await res.text());
  if (opts.blob === true) return (await res.blob()) as T;
  const text = await res.text();
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

/** Where a page goes when its session has ended: the sign-in page, back here afterwards. */
export function toSignIn(): void {
  window.location.assign(`/login?next=${encodeURIComponent(window.location.pathname + window.location.search)}`);
}
