import type { ServerEvent } from './client';

interface DocumentState {
  step?: string;
  pagesDone: number;
  pagesTotal?: number;
  ended: boolean;
}

const FINAL = new Set(['completed', 'completed_with_errors', 'failed', 'cancelled']);

/** A batch's progress, kept up to date from its events stream (snapshot, batch, document, step, page, end). */
export class BatchProgress {
  status = 'queued';
  total = 0;
  completed = 0;
  failed = 0;
  cancelled = 0;
  private readonly documents = new Map<string, DocumentState>();
  private readonly startedAt = Date.now();
  private firstDoneAt: number | undefined;

  get done(): number {
    return this.completed + this.failed + this.cancelled;
  }

  get finished(): boolean {
    return FINAL.has(this.status);
  }

  apply(event: ServerEvent): void {
    const data = (event.data ?? {}) as Record<string, unknown>;
    const counts = (source: Record<string, unknown>) => {
      for (const key of ['total', 'completed', 'failed', 'cancelled'] as const) if (typeof source[key] === 'number') this[key] = source[key];
    };
    if (event.event === 'snapshot') {
      this.status = String(data.status);
      counts((data.progress ?? {}) as Record<string, unknown>);
    } else if (event.event === 'batch' || event.event === 'end') {
      this.status = String(data.status);
      counts(data);
    } else if (event.event === 'document') {
      counts(data);
      const doc = this.document(String(data.document));
      doc.ended = FINAL.has(String(data.status)) || data.status === 'timeout';
      if (doc.ended && this.firstDoneAt === undefined) this.firstDoneAt = Date.now();
    } else if (event.event === 'step' && data.status === 'running') {
      this.document(String(data.document)).step = String(data.step);
    } else if (event.event === 'page') {
      const doc = this.document(String(data.document));
      doc.step = String(data.step);
      if (typeof data.done === 'number') doc.pagesDone = data.done;
      if (typeof data.count === 'number') doc.pagesTotal = data.count;
    }
  }

  private document(id: string): DocumentState {
    let doc = this.documents.get(id);
    if (!doc) this.documents.set(id, (doc = { pagesDone: 0, ended: false }));
    return doc;
  }

  /** Documents in each step right now. */
  perStep(): Record<string, number> {
    const steps: Record<string, number> = {};
    for (const doc of this.documents.values()) if (!doc.ended && doc.step) steps[doc.step] = (steps[doc.step] ?? 0) + 1;
    return steps;
  }

  /** Pages read, of those whose count is known so far. */
  pages(): { done: number; total: number } {
    let done = 0;
    let total = 0;
    for (const doc of this.documents.values()) {
      done += doc.pagesDone;
      total += doc.pagesTotal ?? 0;
    }
    return { done, total };
  }

  /** Documents per second since the first one ended. */
  rate(now = Date.now()): number | null {
    if (this.firstDoneAt === undefined || this.done === 0) return null;
    const seconds = Math.max(1, (now - this.startedAt) / 1000);
    return this.done / seconds;
  }

  etaSeconds(now = Date.now()): number | null {
    const rate = this.rate(now);
    return rate && rate > 0 ? (this.total - this.done) / rate : null;
  }

  /** One line: bar, documents, pages, steps, rate, ETA; `width` columns for the bar. */
  line(width = 24, now = Date.now()): string {
    const share = this.total === 0 ? 0 : this.done / this.total;
    const filled = Math.round(share * width);
    const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
    const pages = this.pages();
    const steps = Object.entries(this.perStep())
      .map(([step, n]) => `${step} ${n}`)
      .join(' ');
    const rate = this.rate(now);
    const eta = this.etaSeconds(now);
    return [
      `${bar} ${this.done}/${this.total} documents`,
      this.failed + this.cancelled > 0 ? `${this.failed} failed${this.cancelled ? `, ${this.cancelled} cancelled` : ''}` : '',
      pages.total > 0 ? `pages ${pages.done}/${pages.total}` : '',
      steps ? `in ${steps}` : '',
      rate ? `${rate.toFixed(rate < 1 ? 2 : 1)} docs/s` : '',
      eta !== null && this.done < this.total ? `ETA ${formatSeconds(eta)}` : '',
      this.finished ? this.status : '',
    ]
      .filter(Boolean)
      .join(' · ');
  }
}

function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  const m = Math.floor(seconds / 60);
  return m < 60 ? `${m}m${String(Math.round(seconds % 60)).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
