import { z } from 'zod';
import { OperationError } from '../errors.js';
import type { KubeResponse } from './http.js';

/** A request to the Kubernetes API failed; status is the HTTP status when the apiserver answered. */
export class KubeApiError extends OperationError {
  override readonly name = 'KubeApiError';
  constructor(
    message: string,
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(message, undefined, options);
  }
}

const statusSchema = z.object({ reason: z.string().optional(), message: z.string().optional() }).loose();

/** The apiserver's own words for a failure (its Status object), else the start of the body. */
function whyFailed(body: string): string {
  try {
    const status = statusSchema.parse(JSON.parse(body));
    return [status.reason, status.message].filter(Boolean).join(': ');
  } catch {
    return body.trim().slice(0, 300);
  }
}

export function expectOk(response: KubeResponse, what: string): KubeResponse {
  if (response.status >= 200 && response.status < 300) return response;
  throw new KubeApiError(`${what}: HTTP ${response.status} ${whyFailed(response.body)}`, response.status);
}

/** A successful answer's JSON, read with schema (the fields kubesmith depends on). */
export function readOk<T>(schema: z.ZodType<T>, response: KubeResponse, what: string): T {
  expectOk(response, what);
  let data: unknown;
  try {
    data = JSON.parse(response.body);
  } catch (cause) {
    throw new KubeApiError(`${what}: the answer is not JSON`, response.status, { cause });
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success)
    throw new KubeApiError(`${what}: unexpected answer: ${z.prettifyError(parsed.error)}`, response.status, {
      cause: parsed.error,
    });
  return parsed.data;
}
