// The HTTP API as the console uses it: the bearer token lives in this module's memory only (a reload signs out),
// and every refusal comes back as an ApiProblem carrying the problem+json detail for the operator.

let token = null;

export class ApiProblem extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export const setToken = (value) => {
  token = value;
};
export const signedIn = () => token !== null;

/** What an operator needs to read in a problem: its detail, and the state and what the order waits on for a 409. */
export function describeProblem(err) {
  if (!(err instanceof ApiProblem)) return err instanceof Error ? err.message : String(err);
  const p = err.problem;
  const parts = [p.detail || p.title || `HTTP ${err.status}`];
  if (p.state) parts.push(`State: ${p.state}${p.waitingOn ? `, waiting on ${p.waitingOn}` : ''}.`);
  if (Array.isArray(p.errors)) parts.push(...p.errors.map((e) => `${e.path}: ${e.message}`));
  return parts.join(' ');
}

async function problemOf(res) {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    return { title: res.statusText, detail: text.slice(0, 300) || `HTTP ${res.status}` };
  }
}

export let onUnauthorized = () => {};
export const whenUnauthorized = (fn) => {
  onUnauthorized = fn;
};

async function send(method, path, { json, form, raw = false } = {}) {
  const headers = { accept: 'application/json, application/problem+json' };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  let body;
  if (json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form;
  }
  const res = await fetch(path, { method, headers, body, credentials: 'omit', cache: 'no-store' });
  if (!res.ok) {
    const problem = await problemOf(res);
    // A token that ran out (15 minutes) or a revoked key: back to the sign-in form.
    if (res.status === 401 && token !== null) onUnauthorized(problem);
    throw new ApiProblem(res.status, problem);
  }
  if (raw) return res;
  return res.status === 204 ? null : res.json();
}

export const get = (path) => send('GET', path);
export const post = (path, json = {}) => send('POST', path, { json });
export const postForm = (path, form) => send('POST', path, { form });
export const getBlob = async (path) => (await send('GET', path, { raw: true })).blob();
