import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request the fake API server saw. */
export interface SeenRequest {
  method: string;
  path: string;
  contentType: string | undefined;
  authorization: string | undefined;
  body: unknown;
}

/**
 * An API server of our own on 127.0.0.1 that serves `deployments/{name}/scale` (GET,
 * PATCH) and pods (PATCH) as Kubernetes does, and answers what each test tells it to.
 */
export class FakeKubernetesApi {
  readonly seen: SeenRequest[] = [];
  /** Each Deployment's spec.replicas. */
  replicas: Record<string, number>;
  /** Status to answer a scale PATCH with instead of 200 (403, 404, 409...). */
  failWith: number | null = null;
  /** Never answer (a hung API server). */
  hang = false;
  private server!: Server;

  constructor(deployments: string[]) {
    this.replicas = Object.fromEntries(deployments.map((name) => [name, 1]));
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((done) => this.server.listen(0, '127.0.0.1', done));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((done) => this.server.close(() => done()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const path = req.url!.split('?')[0]!;
    this.seen.push({
      method: req.method!,
      path,
      contentType: req.headers['content-type'],
      authorization: req.headers.authorization,
      body: raw ? JSON.parse(raw) : null,
    });
    if (this.hang) return; // no answer
    const send = (status: number, body: object): void => void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    const scale = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/deployments\/([^/]+)\/scale$/.exec(path);
    if (scale) {
      const [, namespace, name] = scale;
      if (!(name! in this.replicas)) return send(404, status(404, 'NotFound', `deployments.apps "${name}" not found`));
      if (req.method === 'PATCH' && this.failWith) return send(this.failWith, status(this.failWith, 'Failure', 'refused by the test'));
      if (req.method === 'PATCH') this.replicas[name!] = (JSON.parse(raw) as { spec: { replicas: number } }).spec.replicas;
      return send(200, {
        apiVersion: 'autoscaling/v1',
        kind: 'Scale',
        metadata: { name, namespace },
        spec: { replicas: this.replicas[name!] },
        status: { replicas: this.replicas[name!] },
      });
    }
    if (/^\/api\/v1\/namespaces\/[^/]+\/pods\/[^/]+$/.test(path) && req.method === 'PATCH') return send(200, { kind: 'Pod', metadata: {} });
    send(404, status(404, 'NotFound', 'no such path'));
  }
}

const status = (code: number, reason: string, message: string) => ({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message });

/** A kubeconfig (YAML) that points at `server` with a bearer token, namespace `docproc`. */
export function kubeconfigYaml(server: string, token = 'test-token'): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters: [{ name: test, cluster: { server: "' + server + '", insecure-skip-tls-verify: true } }]',
    'users: [{ name: autoscaler, user: { token: "' + token + '" } }]',
    'contexts: [{ name: test, context: { cluster: test, user: autoscaler, namespace: docproc } }]',
    'current-context: test',
    '',
  ].join('\n');
}
