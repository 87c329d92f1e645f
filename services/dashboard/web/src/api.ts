// The SPA's only way out: the dashboard's own origin (the BFF). /api/session for the session,
// /api/ingest|lineage|exporter/... proxied to the services with the session's key.
// Every state-changing request carries X-CSRF-Token, the value of the cognify_csrf cookie.

export class ApiError extends Error {
  readonly status: number;
  readonly body: unknown;

  constructor(status: number, body: unknown, message: string) {
    super(message);
    this.status = status;
    this.body = body;
  }

  /** The reasons a refused seal gives (exporter: 409 {"error", "reasons": [...]}). */
  get reasons(): string[] {
    const b = this.body as { reasons?: unknown } | null;
    return Array.isArray(b?.reasons) ? b.reasons.map(String) : [];
  }
}

export function csrfToken(cookies: string = document.cookie): string {
  for (const part of cookies.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === "cognify_csrf") return decodeURIComponent(v.join("="));
  }
  return "";
}

/** The message of an error answer: FastAPI's "detail" (a string or validation list) or
 * the exporter's "error". */
export function errorMessage(status: number, body: unknown): string {
  const b = body as { detail?: unknown; error?: unknown } | null;
  if (typeof b?.detail === "string") return b.detail;
  if (Array.isArray(b?.detail)) {
    return b.detail
      .map((d: unknown) => (typeof d === "object" && d !== null && "msg" in d ? String(d.msg) : JSON.stringify(d)))
      .join("; ");
  }
  if (typeof b?.error === "string") return b.error;
  return `HTTP ${status}`;
}

/** Any thrown value as a sentence for the page. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

let onUnauthorized: (() => void) | null = null;

/** Called when any call answers 401 (the session expired): the app goes to sign-in. */
export function setUnauthorizedHandler(handler: (() => void) | null): void {
  onUnauthorized = handler;
}

export async function request(method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = csrfToken();
  const response = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? null : JSON.stringify(body),
  });
  if (!response.ok) {
    let parsed: unknown = null;
    try {
      parsed = await response.json();
    } catch {
      parsed = null;
    }
    if (response.status === 401 && path !== "/api/session") onUnauthorized?.();
    throw new ApiError(response.status, parsed, errorMessage(response.status, parsed));
  }
  return response;
}

const early = new Map<string, Promise<unknown>>();

/** Start a GET before the page that needs it renders: the first page's data, asked for while
 * the session is (one round trip fewer before the reviewer sees anything). The page's own
 * `getJson` of the same path takes the answer, once, within 10 s. One that fails before it
 * is taken (not signed in yet) is forgotten: the page asks again once it renders. */
export function prefetchJson(path: string): void {
  if (early.has(path)) return;
  const started = getJson<unknown>(path);
  early.set(path, started);
  const forget = () => {
    if (early.get(path) === started) early.delete(path);
  };
  started.catch(forget);
  window.setTimeout(forget, 10_000);
}

export async function getJson<T>(path: string): Promise<T> {
  const started = early.get(path);
  if (started !== undefined) {
    early.delete(path);
    return (await started) as T;
  }
  const response = await request("GET", path);
  return (await response.json()) as T;
}

export async function send<T>(method: string, path: string, body?: unknown): Promise<T | null> {
  const response = await request(method, path, body);
  if (response.status === 204) return null;
  const text = await response.text();
  return text ? (JSON.parse(text) as T) : null;
}

export function query(params: Record<string, string | number | null | undefined | readonly string[]>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === null || v === undefined || v === "") continue;
    if (Array.isArray(v)) for (const item of v as readonly string[]) q.append(k, item);
    else q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

export const lineagePath = (path: string) => `/api/lineage/v1/${path}`;
export const ingestPath = (path: string) => `/api/ingest/${path}`;
export const exporterPath = (path: string) => `/api/exporter/v1/${path}`;
export const runPath = (runId: string) => `runs/${encodeURIComponent(runId)}`;
