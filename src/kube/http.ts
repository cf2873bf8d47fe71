import { Agent } from 'node:https';
import type { KubeConfig, RequestContext } from '@kubernetes/client-node';
import { z } from 'zod';
import { InterruptedError } from '../errors.js';
import { KubeApiError } from './responses.js';

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  /** Without a name: the collection (all namespaces when the kind is namespaced and no namespace is given). */
  name?: string;
  namespace?: string;
}

export interface KubeRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string>;
  body?: { contentType: string; text: string };
  /** Aborts this request (the API's own signal always does). */
  signal?: AbortSignal;
}

export interface KubeResponse {
  status: number;
  body: string;
}

/** Requests to one apiserver: paths found by discovery, bodies sent and read as raw JSON. */
export interface KubeHttp {
  pathOf(ref: ObjectRef): Promise<string>;
  send(request: KubeRequest): Promise<KubeResponse>;
  close(): void;
}

export interface KubeHttpOptions {
  signal?: AbortSignal;
  /** Why the way to the apiserver failed, when known (the tunnel's last failure), added to network errors. */
  transportFailure?: () => string | undefined;
}

/** A request that neither answers nor fails in this time is given up on. */
const REQUEST_TIMEOUT_MS = 30_000;
const MAX_CONNECTIONS = 4;

const yamlErrorSchema = z
  .object({ reason: z.string(), mark: z.object({ line: z.number() }).loose() })
  .loose();

/** The kubeconfig read by client-node; a YAML error names its line only, since its excerpt could show key material. */
function loadKubeconfig(kc: KubeConfig, yaml: string): void {
  try {
    kc.loadFromString(yaml);
  } catch (error) {
    const yamlError = yamlErrorSchema.safeParse(error);
    if (yamlError.success)
      throw new Error(
        `the kubeconfig is not valid YAML: ${yamlError.data.reason} (line ${yamlError.data.mark.line + 1})`,
      );
    throw new Error(`the kubeconfig cannot be read: ${(error as Error).message}`, { cause: error });
  }
  if (!kc.getCurrentCluster()) throw new Error('the kubeconfig has no current cluster');
}

/**
 * One keep-alive agent for every request: client-node makes a new one (a new connection, so a new SSH
 * channel and socat) per request. At most MAX_CONNECTIONS at once: each is an SSH session, and sshd
 * allows 10 per connection by default, which the steps' own commands share.
 */
async function sharedAgent(kc: KubeConfig): Promise<Agent> {
  const tls: { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer; servername?: string } =
    {};
  await kc.applyToHTTPSOptions(tls);
  const { ca, cert, key, servername } = tls;
  // Verification stays on whatever the kubeconfig says: the tunnel ends at 127.0.0.1, which the certificate names.
  return new Agent({
    keepAlive: true,
    maxSockets: MAX_CONNECTIONS,
    ca,
    cert,
    key,
    servername,
    rejectUnauthorized: true,
  });
}

/**
 * Opens requests to the apiserver at url (instead of the kubeconfig's server) with the kubeconfig's credentials.
 * @kubernetes/client-node is loaded here, not at start-up: it is large and only some commands talk to the API.
 */
export async function openKubeHttp(
  url: string,
  kubeconfig: string,
  options: KubeHttpOptions = {},
): Promise<KubeHttp> {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  loadKubeconfig(kc, kubeconfig);
  const agent = await sharedAgent(kc);
  const prepare = (context: RequestContext, signal?: AbortSignal) => {
    context.setAgent(agent);
    const signals = [options.signal, signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)];
    context.setSignal(AbortSignal.any(signals.filter((s) => s !== undefined)));
    return context;
  };
  const configuration = k8s.createConfiguration({
    baseServer: new k8s.ServerConfiguration(url, {}),
    authMethods: { default: kc },
    promiseMiddleware: [{ pre: async (context) => prepare(context), post: async (response) => response }],
  });

  /** KubernetesObjectApi's discovery (cached per apiVersion) and path rules, without its typed (de)serialisation. */
  class Discovery extends k8s.KubernetesObjectApi {
    pathOf(ref: ObjectRef): Promise<string> {
      const spec = {
        apiVersion: ref.apiVersion,
        kind: ref.kind,
        metadata: { name: ref.name, namespace: ref.namespace },
      };
      return this.specUriPath(spec, ref.name ? 'read' : 'list');
    }
  }
  const discovery = new Discovery(configuration);

  const failed = (what: string, error: unknown, signal?: AbortSignal): Error => {
    if (options.signal?.aborted || signal?.aborted) return new InterruptedError();
    // Discovery's own errors (ApiException) carry the whole answer and its headers: the status says enough.
    if (error instanceof k8s.ApiException)
      return new KubeApiError(`${what}: HTTP ${error.code}`, error.code, { cause: error });
    const where = options.transportFailure?.();
    const message = error instanceof Error ? error.message : String(error);
    return new KubeApiError(`${what}: ${message}${where ? ` (on the host: ${where})` : ''}`, undefined, {
      cause: error,
    });
  };

  return {
    async pathOf(ref) {
      try {
        return await discovery.pathOf(ref);
      } catch (error) {
        throw failed(`cannot find ${ref.kind} of ${ref.apiVersion} in the API`, error);
      }
    },
    async send(request) {
      const context = configuration.baseServer.makeRequestContext(
        request.path,
        k8s.HttpMethod[request.method],
      );
      for (const [name, value] of Object.entries(request.query ?? {})) context.setQueryParam(name, value);
      context.setHeaderParam('Accept', 'application/json, */*');
      if (request.body) {
        context.setHeaderParam('Content-Type', request.body.contentType);
        context.setBody(request.body.text);
      }
      try {
        await kc.applySecurityAuthentication(context);
        const response = await configuration.httpApi.send(prepare(context, request.signal)).toPromise();
        return { status: response.httpStatusCode, body: await response.body.text() };
      } catch (error) {
        throw failed(`${request.method} ${request.path}`, error, request.signal);
      }
    },
    close: () => agent.destroy(),
  };
}

/** The same requests, each also aborted by signal. */
export function withSignal(http: KubeHttp, signal: AbortSignal | undefined): KubeHttp {
  return signal ? { ...http, send: (request) => http.send({ signal, ...request }) } : http;
}
