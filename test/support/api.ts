/**
 * Test client for the API under test. `npm test` starts serverless-offline and exports API_URL,
 * ADMIN_API_KEY, DATABASE_URL and KAFKA_BROKERS (see infra/cli/test.ts).
 */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the suite with \`npm test\`, which starts the stack and sets it.`);
  return value;
}

export const apiUrl = () => requireEnv('API_URL');
export const adminKey = () => requireEnv('ADMIN_API_KEY');

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export async function api<T = any>(
  method: string,
  path: string,
  { body, headers, admin, raw }: { body?: unknown; headers?: Record<string, string>; admin?: boolean; raw?: string } = {},
): Promise<ApiResponse<T>> {
  const response = await fetch(`${apiUrl()}${path}`, {
    method,
    headers: {
      ...(body !== undefined || raw !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(admin ? { 'x-api-key': adminKey() } : {}),
      ...headers,
    },
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, headers: response.headers, body: parsed as T, text };
}

/** Polls `probe` until it returns a value, or fails after `timeoutMs` with the last value seen. */
export async function eventually<T>(probe: () => Promise<T | undefined | null | false>, { timeoutMs = 30_000, intervalMs = 100, what = 'condition' } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    last = await probe();
    if (last) return last as T;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`${what} not reached within ${timeoutMs} ms (last: ${JSON.stringify(last)})`);
}

export function expectProblem(response: ApiResponse, status: number): void {
  expect({ status: response.status, type: response.headers.get('content-type') }).toEqual({ status, type: 'application/problem+json' });
  expect(response.body).toMatchObject({ status, title: expect.any(String), detail: expect.any(String), type: expect.any(String) });
}
