import { EXIT } from './exit-codes';

/** A failure the CLI reports and exits on, with the exit code that says what kind it was. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export interface ServerEvent {
  id?: string;
  event: string;
  data: unknown;
}

/** The docproc HTTP API, as the CLI uses it: JSON in and out, errors as CliError. */
export class ApiClient {
  constructor(
    readonly url: string,
    private readonly key?: string,
  ) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.key ? { authorization: `Bearer ${this.key}` } : {}), ...extra };
  }

  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, { ...init, headers: this.headers(init.headers as Record<string, string>) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(
        `cannot reach docproc at ${this.url}: ${cause?.code ?? cause?.message ?? (err as Error).message} (is it running? docproc up starts it)`,
        EXIT.unreachable,
      );
    }
    if (res.ok) return res;
    const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string; details?: unknown } } | null;
    const message = body?.error?.message ?? `${res.status} ${res.statusText}`;
    const details = body?.error?.details ? ` ${JSON.stringify(body.error.details)}` : '';
    const code = res.status === 401 ? EXIT.unauthorized : res.status >= 500 ? EXIT.serverError : EXIT.refused;
    const hint = res.status === 401 ? ' (give the key with --key or DOCPROC_API_KEY)' : '';
    throw new CliError(`${res.status}: ${message}${details}${hint}`, code);
  }

  async json<T>(path: string, init: RequestInit = {}): Promise<T> {
    const res = await this.fetch(path, init);
    return res.status === 204 ? (undefined as T) : ((await res.json()) as T);
  }

  /**
   * The server-sent events at `path`, as they come; reconnects with Last-Event-ID
   * when the connection drops (a restarted orchestrator), so nothing is missed.
   */
  async *events(path: string, signal?: AbortSignal): AsyncGenerator<ServerEvent> {
    let lastId: string | undefined;
    for (let attempt = 0; attempt < 30; attempt++) {
      let res: Response;
      try {
        res = await this.fetch(path, { headers: lastId ? { 'last-event-id': lastId } : {}, signal });
      } catch (err) {
        if (err instanceof CliError && err.exitCode === EXIT.unreachable && lastId) {
          await new Promise((resolve) => setTimeout(resolve, 1000));
          continue;
        }
        throw err;
      }
      let ended = false;
      try {
        for await (const event of parseEventStream(res.body!)) {
          if (event.id) lastId = event.id;
          yield event;
          if (event.event === 'end') ended = true;
        }
      } catch (err) {
        if (signal?.aborted) return;
        if (!lastId) throw err;
      }
      if (ended || signal?.aborted) return;
      attempt = 0; // a stream that got events and dropped: start counting again
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/** Splits a text/event-stream body into events (id, event, data as JSON). */
async function* parseEventStream(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let current: { id?: string; event?: string; data: string[] } = { data: [] };
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline).replace(/\r$/, '');
      buffer = buffer.slice(newline + 1);
      if (line === '') {
        if (current.data.length > 0) yield { id: current.id, event: current.event ?? 'message', data: JSON.parse(current.data.join('\n')) };
        current = { data: [] };
      } else if (line.startsWith('id:')) current.id = line.slice(3).trim();
      else if (line.startsWith('event:')) current.event = line.slice(6).trim();
      else if (line.startsWith('data:')) current.data.push(line.slice(5).trimStart());
    }
  }
}
