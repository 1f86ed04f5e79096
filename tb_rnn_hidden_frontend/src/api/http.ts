/**
 * HTTP for the plugin backend: requests, errors, JSON and binary arrays.
 * Only routes.ts calls these: every route has its typed function there.
 *
 * All URLs are relative: the plugin runs in TensorBoard's entry iframe whose
 * `<base href="plugin/rnn_hidden/">` resolves them to `/data/plugin/rnn_hidden/`,
 * which keeps the frontend independent of TensorBoard's path prefix.
 */

/** A failed request; `message` is the backend's `{"error": ...}` text when it sent one. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    /** Seconds the server asked to wait before trying again (`Retry-After` of a 429), or null. */
    readonly retryAfter: number | null = null,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export function describeError(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return `Unexpected error: ${err.message}`;
  return `Unexpected error: ${String(err)}`;
}

export type Params = Record<string, string | number>;

/** Builds a relative URL such as `sequences?run=a&tag=b&step=3` (values are URL-encoded). */
export function buildUrl(route: string, params?: Params): string {
  if (!params) return route;
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) query.set(key, String(value));
  return `${route}?${query.toString()}`;
}

function errorMessage(body: unknown): string | null {
  if (typeof body === "object" && body !== null && "error" in body) {
    const { error } = body as { error: unknown };
    if (typeof error === "string" && error) return error;
  }
  return null;
}

/** Whether `err` is a request aborted by its signal (a newer request took its place), not a failure. */
export function isAbort(err: unknown): boolean {
  return err instanceof DOMException && err.name === "AbortError";
}

/** fetch(), with an unreachable server as an ApiError of status 0 (aborts pass through). */
async function request(route: string, params: Params | undefined, init: RequestInit, signal?: AbortSignal): Promise<Response> {
  if (signal) init.signal = signal;
  try {
    return await fetch(buildUrl(route, params), init);
  } catch (err) {
    if (isAbort(err)) throw err;
    throw new ApiError(`Could not reach the TensorBoard server (${String(err)}).`, 0);
  }
}

/**
 * A GET, asked again after its `Retry-After` while the server answers 429 (every
 * answer slot busy: array routes, `/matches`, `/search`, `/neighbors`), up to
 * ARRAY_RETRIES times; the last answer is returned whatever it is.
 */
async function getRetrying(route: string, params: Params | undefined, init: RequestInit, signal?: AbortSignal): Promise<Response> {
  let response = await request(route, params, init, signal);
  for (let attempt = 0; response.status === 429 && attempt < ARRAY_RETRIES; attempt++) {
    await wait(Math.min(retryAfter(response) ?? 1, MAX_RETRY_WAIT_S), signal);
    response = await request(route, params, init, signal);
  }
  return response;
}

/** `GET route?params` as JSON; a 429 is asked again (`getRetrying`). */
export async function getJson<T>(route: string, params?: Params, signal?: AbortSignal): Promise<T> {
  return jsonRequest<T>("GET", route, params, signal);
}

/**
 * A request that changes server state (starting or cancelling a projection job): POST with
 * a JSON body, which a page of another site cannot send (it would need a CORS preflight).
 */
export function postJson<T>(route: string, body: Record<string, unknown>, signal?: AbortSignal): Promise<T> {
  return jsonRequest<T>("POST", route, undefined, signal, body);
}

/** The seconds of a `Retry-After` header (a number of seconds), or null. */
function retryAfter(response: Response): number | null {
  const seconds = Number(response.headers.get("Retry-After") ?? "");
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : null;
}

async function jsonRequest<T>(method: "GET" | "POST", route: string, params?: Params, signal?: AbortSignal, body?: Record<string, unknown>): Promise<T> {
  const init: RequestInit = { method, headers: { Accept: "application/json" } };
  if (body !== undefined) init.headers = { Accept: "application/json", "Content-Type": "application/json" };
  if (body !== undefined) init.body = JSON.stringify(body);
  // A POST is not asked again: a full job queue (429) is the caller's to show.
  const response = method === "GET" ? await getRetrying(route, params, init, signal) : await request(route, params, init, signal);
  let parsedBody: unknown = undefined;
  let parsed = true;
  try {
    parsedBody = await response.json();
  } catch {
    parsed = false;
  }
  if (!response.ok) {
    const detail = errorMessage(parsedBody) ?? (`${response.status} ${response.statusText}`.trim());
    throw new ApiError(detail, response.status, response.status === 429 ? retryAfter(response) : null);
  }
  if (!parsed) throw new ApiError(`Invalid JSON in the response to "${route}".`, response.status);
  return parsedBody as T;
}

/** A binary array route's answer: the typed array and the headers that describe it. */
export interface BinaryArray {
  data: Float32Array | Int32Array;
  dtype: string;
  shape: number[];
  headers: Headers;
}

/** How often, and at most how long each time, a GET that got 429 is asked again. */
export const ARRAY_RETRIES = 3;
const MAX_RETRY_WAIT_S = 30;

/** Resolves after `seconds`, or rejects with an AbortError when `signal` aborts first. */
function wait(seconds: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new DOMException("aborted", "AbortError"));
    const timer = setTimeout(resolve, seconds * 1000);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(new DOMException("aborted", "AbortError"));
    }, { once: true });
  });
}

/**
 * `GET route?params` as raw little-endian array (`X-Array-Shape`, `X-Array-Dtype`).
 * A 429 (every array answer slot of the server busy, e.g. several tabs playing) is asked
 * again after its `Retry-After`, up to ARRAY_RETRIES times, before it is an error.
 */
export async function getArray(route: string, params: Params, signal?: AbortSignal): Promise<BinaryArray> {
  const { buffer, headers, status } = await getBytes(route, params, signal);
  const dtype = headers.get("X-Array-Dtype") ?? "float32";
  const shape = (headers.get("X-Array-Shape") ?? "")
    .split(",")
    .filter((d) => d !== "")
    .map(Number);
  let data: Float32Array | Int32Array;
  if (dtype === "float32") data = new Float32Array(buffer);
  else if (dtype === "int32") data = new Int32Array(buffer);
  else throw new ApiError(`Unexpected array type ${dtype} from "${route}".`, status);
  return { data, dtype, shape, headers };
}

/**
 * `GET route?params` as raw bytes and their headers, for routes that say their
 * type in headers of their own (`/annotations`: `X-Annotation-Kind`); a 429 is
 * asked again (`getRetrying`).
 */
export async function getBytes(route: string, params: Params, signal?: AbortSignal): Promise<{ buffer: ArrayBuffer; headers: Headers; status: number }> {
  const response = await getRetrying(route, params, {}, signal);
  if (!response.ok) {
    let body: unknown = undefined;
    try {
      body = await response.json();
    } catch {
      // not JSON: the status says enough
    }
    throw new ApiError(errorMessage(body) ?? `${response.status} ${response.statusText}`.trim(), response.status);
  }
  return { buffer: await response.arrayBuffer(), headers: response.headers, status: response.status };
}

