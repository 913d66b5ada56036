import { resolve } from 'node:path';
import express, { Router } from 'express';
import type { BatchRecord, DocumentRecord } from '@docproc/batches';
import { BATCH_STATUSES, TASK_STATUSES, type StepName } from '@docproc/catalog';
import type { AppDeps } from './deps';
import { principalOf, sees } from './auth';
import { formatDuration, html, layout, type Html } from './html';
import { afterParam, batchStatusParam, nextCursor } from './query';

export const PAGES_PATH = '/batches';

/** The pages' script and style: plain files, served as they are (no build, no CDN). */
const ASSETS = resolve(__dirname, '..', 'public');

const ms = (iso: string | null) => (iso ? Date.parse(iso) : null);
const took = (from: string | null, to: string | null) => {
  const [a, b] = [ms(from), ms(to)];
  return a !== null && b !== null ? formatDuration(b - a) : '';
};
const time = (iso: string | null) => (iso ? html`<time datetime="${iso}">${iso.slice(0, 19).replace('T', ' ')}</time>` : '');

/**
 * People's view of the batches: /batches lists them (filtered by status), and
 * /batches/:id shows one — its documents, filtered by name and status, and the
 * timeline of its tasks (one row per worker, one bar per task), live while it
 * runs. Server-rendered HTML; public/batch-page.js filters and draws from the
 * job's event stream.
 */
export function batchPages(deps: AppDeps): Router {
  const { store } = deps;
  const router = Router();
  router.use('/assets', express.static(ASSETS, { index: false, maxAge: '1h' }));

  router.get('/', async (req, res) => {
    const status = batchStatusParam(req.query);
    const principal = principalOf(res);
    // A tenant's keys see its batches; an administrator's, every tenant's.
    const tenant = principal.roles.includes('admin') ? undefined : principal.tenant;
    const { batches, last } = await store.listBatches({ tenant, limit: 50, status, after: afterParam(req.query) });
    const next = nextCursor(last);
    res.type('html').send(
      layout(
        'Batches',
        html`<main>
          <h1>Batches</h1>
          <form class="filters" method="get">
            <label
              >Status
              <select name="status" onchange="this.form.submit()">
                <option value="">any</option>
                ${BATCH_STATUSES.map((s) => html`<option ${s === status ? html`selected` : ''}>${s}</option>`)}
              </select></label
            >
            <noscript><button>Filter</button></noscript>
          </form>
          ${
            batches.length === 0
              ? html`<p class="empty">
                  No batches${status ? html` ${status}` : ''} yet. Submit one with <code>docproc submit &lt;folder&gt;</code>.
                </p>`
              : html`<table id="batches">
                  <thead>
                    <tr>
                      <th>Batch</th>
                      <th>Status</th>
                      <th>Progress</th>
                      <th>Documents</th>
                      <th>Pipeline</th>
                      <th>Created</th>
                      <th>Took</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${batches.map(batchRow)}
                  </tbody>
                </table>`
          }
          ${next ? html`<p><a href="?${new URLSearchParams({ ...(status ? { status } : {}), cursor: next })}">Older batches</a></p>` : ''}
        </main>`,
      ),
    );
  });

  router.get('/:id', async (req, res) => {
    const batch = await store.getBatch(req.params.id);
    // a person followed a link: a page that says so, not the API's JSON error
    if (!batch || !sees(principalOf(res), batch.tenant)) {
      const body = html`<main>
        <h1>No batch ${req.params.id}</h1>
        <p>It may have expired (finished batches are kept for their retention time) or been deleted. <a href="${PAGES_PATH}">All batches</a></p>
      </main>`;
      res.status(404).type('html').send(layout('No such batch', body));
      return;
    }
    const ids = await store.getDocumentIds(batch.id);
    const documents = (await store.getDocuments(ids)).filter((d): d is DocumentRecord => d !== null);
    res.type('html').send(layout(`Batch ${batch.id.slice(0, 8)}`, batchPage(batch, documents), 'batch-page.js'));
  });

  return router;
}

function progressBar(batch: BatchRecord): Html {
  const share = (n: number) => (batch.total === 0 ? 0 : (100 * n) / batch.total);
  return html`<span class="bar" title="${batch.completed} completed, ${batch.failed} failed, ${batch.cancelled} cancelled of ${batch.total}"
    ><span class="completed" style="width:${share(batch.completed).toFixed(1)}%"></span
    ><span class="failed" style="width:${share(batch.failed).toFixed(1)}%"></span
    ><span class="cancelled" style="width:${share(batch.cancelled).toFixed(1)}%"></span
  ></span>`;
}

function batchRow(batch: BatchRecord): Html {
  return html`<tr data-status="${batch.status}">
    <td>
      <a href="/batches/${batch.id}"><code>${batch.id}</code></a>
    </td>
    <td><span class="status ${batch.status}">${batch.status}</span></td>
    <td>${progressBar(batch)}</td>
    <td>${batch.completed + batch.failed + batch.cancelled}/${batch.total}${batch.failed ? html` · ${batch.failed} failed` : ''}</td>
    <td>${batch.pipeline.join(' → ')}</td>
    <td>${time(batch.createdAt)}</td>
    <td>${took(batch.startedAt ?? batch.createdAt, batch.finishedAt)}</td>
  </tr>`;
}

function documentRow(batch: BatchRecord, doc: DocumentRecord): Html {
  const current = doc.status === 'running' ? (batch.pipeline.find((s) => doc.steps[s]?.status === 'running') ?? '') : '';
  const pages = Math.max(0, ...batch.pipeline.map((s) => doc.steps[s]?.pages?.total ?? 0));
  return html`<tr data-document="${doc.id}" data-name="${doc.name.toLowerCase()}" data-status="${doc.status}">
    <td class="name"><a href="/v1/jobs/${batch.id}/documents/${doc.id}" title="the document's results as JSON">${doc.name}</a></td>
    <td><span class="status ${doc.status}">${doc.status}</span></td>
    <td class="where">${current}</td>
    <td class="num pages">${pages || ''}</td>
    ${batch.pipeline.map(
      (s: StepName) =>
        html`<td class="num step-time" data-step="${s}">${took(doc.steps[s]?.startedAt ?? null, doc.steps[s]?.finishedAt ?? null)}</td>`,
    )}
    <td class="num total">${took(doc.startedAt, doc.finishedAt)}</td>
    <td class="error">${doc.error ? html`<code>${doc.error.code}</code> ${doc.error.message}` : ''}</td>
    <td class="review">${reviewText(doc.review)}</td>
  </tr>`;
}

/** A document's review as the table shows it: waiting, or the decision and who took it. */
function reviewText(review: DocumentRecord['review']): string {
  if (!review) return '';
  return review.status === 'waiting' ? 'waiting' : `${review.status}${review.reviewer ? ` by ${review.reviewer}` : ''}`;
}

function batchPage(batch: BatchRecord, documents: DocumentRecord[]): Html {
  return html`<main id="batch" data-id="${batch.id}" data-created="${ms(batch.createdAt)}" data-pipeline="${batch.pipeline.join(',')}">
    <h1>Batch <code>${batch.id}</code> <span id="batch-status" class="status ${batch.status}">${batch.status}</span></h1>
    <p id="summary">
      ${progressBar(batch)}
      <span id="counts">${batch.completed} completed, ${batch.failed} failed, ${batch.cancelled} cancelled of ${batch.total}</span>
      <span id="reviews"
        >${
          batch.reviews.waiting + batch.reviews.approved + batch.reviews.rejected > 0
            ? ` · reviews: ${batch.reviews.waiting} waiting, ${batch.reviews.approved} approved, ${batch.reviews.rejected} rejected`
            : ''
        }</span
      >
      · priority ${batch.priority} · ${batch.pipeline.join(' → ')} · created
      ${time(batch.createdAt)}${batch.finishedAt ? html` · took ${took(batch.startedAt ?? batch.createdAt, batch.finishedAt)}` : ''} ·
      <a href="/v1/jobs/${batch.id}/results">results (JSON)</a>
    </p>

    <section>
      <h2>Timeline</h2>
      <p class="hint">
        One row per worker, one bar per task (a document's step, or one page of it). The strip on top counts the tasks waiting in the queues; a bar's
        tooltip says how long it waited and ran. Click a bar to follow its document.
      </p>
      <div id="timeline"><noscript>The timeline is drawn by a script.</noscript></div>
      <div id="legend"></div>
    </section>

    <section>
      <h2>Documents</h2>
      <div class="filters">
        <input id="filter-name" type="search" placeholder="Filter by name" autocomplete="off" />
        <select id="filter-status">
          <option value="">any status</option>
          ${TASK_STATUSES.map((s) => html`<option>${s}</option>`)}
        </select>
        <span id="shown">${documents.length} documents</span>
      </div>
      <table id="documents">
        <thead>
          <tr>
            <th>Name</th>
            <th>Status</th>
            <th>In step</th>
            <th>Pages</th>
            ${batch.pipeline.map((s) => html`<th>${s}</th>`)}
            <th>Total</th>
            <th>Error</th>
            <th>Review</th>
          </tr>
        </thead>
        <tbody>
          ${documents.map((doc) => documentRow(batch, doc))}
        </tbody>
      </table>
    </section>
  </main>`;
}
