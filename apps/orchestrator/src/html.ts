/** Server-rendered HTML: values are escaped unless they are Html already. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escape = (value: unknown) => String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]!);

const render = (value: unknown): string =>
  value instanceof Html
    ? value.text
    : Array.isArray(value)
      ? value.map(render).join('')
      : value === null || value === undefined || value === false
        ? ''
        : escape(value);

/** A template whose interpolations are escaped (arrays joined; null, undefined and false left out). */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  return new Html(strings.reduce((out, part, i) => out + part + (i < values.length ? render(values[i]) : ''), ''));
}

/** The pages' frame: the navigation between docproc's pages, the shared style, and the page's own script. */
export function layout(title: string, body: Html, script?: string): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · docproc</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href="/batches/assets/pages.css" />
      </head>
      <body>
        <nav>
          <strong>docproc</strong>
          <a href="/batches">Batches</a>
          <a href="/admin/queues">Queues (Bull Board)</a>
          <a href="/autoscaler">Autoscaler</a>
          <a href="/docs">API</a>
          <a href="/api/stats">Stats</a>
          <a href="/metrics">Metrics</a>
        </nav>
        ${body} ${script ? html`<script src="/batches/assets/${script}"></script>` : ''}
      </body>
    </html> `.text;
}

/** A duration for people: 850 ms, 12.3 s, 4 min 05 s. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}
