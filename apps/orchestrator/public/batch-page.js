// The batch page's script: filters the documents by name and status, keeps the
// page live from the job's event stream, and draws the timeline of its tasks
// (one row per worker, one bar per task attempt) from the same events.
'use strict';
(function () {
  const main = document.getElementById('batch');
  const batchId = main.dataset.id;
  const createdAt = Number(main.dataset.created);
  const pipeline = main.dataset.pipeline.split(',');
  const COLORS = { preprocess: '#8250df', ocr: '#0969da', nlp: '#1a7f37', validate: '#bf8700' };
  const BAD = new Set(['failed', 'timeout', 'crashed', 'retried', 'cancelled']);
  const FINAL_DOCUMENT = new Set(['completed', 'failed', 'timeout', 'cancelled']);
  const FAILED_DOCUMENT = new Set(['failed', 'timeout', 'cancelled']);
  const svgNs = 'http://www.w3.org/2000/svg';
  /** A duration for people, as the server writes it: 850 ms, 12.3 s, 4 min 5 s. */
  const seconds = (ms) =>
    ms < 1000
      ? `${Math.round(ms)} ms`
      : ms < 60000
        ? `${(ms / 1000).toFixed(1)} s`
        : `${Math.floor(ms / 60000)} min ${Math.round((ms % 60000) / 1000)} s`;

  // ---- the documents: filter by name and status (kept in the address, so a filtered view can be shared)
  const rows = [...document.querySelectorAll('#documents tbody tr')];
  const rowOf = new Map(rows.map((row) => [row.dataset.document, row]));
  const nameOf = (id) => rowOf.get(id)?.querySelector('.name a').textContent ?? id.slice(0, 8);
  const nameInput = document.getElementById('filter-name');
  const statusSelect = document.getElementById('filter-status');
  const shown = document.getElementById('shown');
  const query = new URLSearchParams(location.search);
  nameInput.value = query.get('q') ?? '';
  statusSelect.value = query.get('status') ?? '';

  function applyFilter() {
    const q = nameInput.value.trim().toLowerCase();
    const status = statusSelect.value;
    let count = 0;
    for (const row of rows) {
      row.hidden = !((q === '' || row.dataset.name.includes(q)) && (status === '' || row.dataset.status === status));
      if (!row.hidden) count++;
    }
    shown.textContent = count === rows.length ? `${rows.length} documents` : `${count} of ${rows.length} documents`;
    const next = new URLSearchParams();
    if (q) next.set('q', q);
    if (status) next.set('status', status);
    history.replaceState(null, '', next.toString() ? `?${next}` : location.pathname);
  }
  nameInput.addEventListener('input', applyFilter);
  statusSelect.addEventListener('change', applyFilter);
  applyFilter();

  // ---- live state from the event stream
  /** Task attempts by document|step|page|attempt: worker, queued, started, ended (ms; null while running), status. */
  const tasks = new Map();
  let ended = false;
  let chosen = null;

  function setStatus(element, status) {
    element.className = `status ${status}`;
    element.textContent = status;
  }

  function setBatch(status, counts) {
    setStatus(document.getElementById('batch-status'), status);
    if (!counts || counts.total === undefined) return;
    document.getElementById('counts').textContent =
      `${counts.completed} completed, ${counts.failed} failed, ${counts.cancelled} cancelled of ${counts.total}`;
    const bar = document.querySelector('#summary .bar');
    for (const part of ['completed', 'failed', 'cancelled']) {
      bar.querySelector(`.${part}`).style.width = `${counts.total ? (100 * counts[part]) / counts.total : 0}%`;
    }
  }

  function setDocument(data) {
    const row = rowOf.get(data.document);
    if (!row) return;
    row.dataset.status = data.status;
    setStatus(row.querySelector('.status'), data.status);
    if (FINAL_DOCUMENT.has(data.status)) row.querySelector('.where').textContent = '';
    if (tasksOf.has(data.document)) showTimes(data.document);
    // A document that ended in error shows its code (the server's fuller text kept where it
    // already says so); one sent round again by a retry, or completed, has no error any more.
    const error = row.querySelector('.error');
    if (data.code) {
      if (!error.textContent.startsWith(data.code)) error.textContent = data.code;
    } else if (!FAILED_DOCUMENT.has(data.status)) error.textContent = '';
  }

  const keyOf = (d) => `${d.document}|${d.step}|${d.page ?? ''}|${d.attempt}`;
  const ms = (iso) => (iso ? Date.parse(iso) : null);

  /** Keeps a task attempt, and shows its document's times and pages in the table. */
  const tasksOf = new Map();
  function remember(task) {
    tasks.set(task.key, task);
    (tasksOf.get(task.document) ?? tasksOf.set(task.document, new Map()).get(task.document)).set(task.key, task);
    showTimes(task.document);
  }

  /** A document's times from its tasks as they end: each step from its first start to its last end, and in all. */
  function showTimes(documentId) {
    const row = rowOf.get(documentId);
    const ended = [...tasksOf.get(documentId).values()].filter((t) => t.ended !== null);
    if (!row || ended.length === 0) return;
    const span = (list) => seconds(Math.max(...list.map((t) => t.ended)) - Math.min(...list.map((t) => t.started)));
    for (const cell of row.querySelectorAll('td.step-time')) {
      const done = ended.filter((t) => t.step === cell.dataset.step && t.status === 'completed');
      if (done.length > 0) cell.textContent = span(done);
    }
    if (FINAL_DOCUMENT.has(row.dataset.status)) row.querySelector('td.total').textContent = span(ended);
  }

  /** A task attempt from a running event (not ended yet) or a task event (ended). */
  const taskOf = (d, started, ended, status) => ({
    key: keyOf(d),
    document: d.document,
    step: d.step,
    page: d.page,
    attempt: d.attempt,
    worker: d.worker,
    queued: ms(d.queued),
    started,
    ended,
    status,
  });

  function taskStarted(d) {
    if (d.count) rowOf.get(d.document)?.querySelector('td.pages')?.replaceChildren(String(d.count));
    if (d.status !== 'running' || !d.worker) return; // events from before workers named themselves
    const row = rowOf.get(d.document);
    if (row && !FINAL_DOCUMENT.has(row.dataset.status)) row.querySelector('.where').textContent = d.step;
    if (!tasks.has(keyOf(d))) remember(taskOf(d, ms(d.at), null, 'running'));
  }

  const taskEnded = (d) => remember(taskOf(d, ms(d.started), ms(d.at), d.status));

  const source = new EventSource(`/v1/jobs/${encodeURIComponent(batchId)}/events`);
  const on = (type, handle) =>
    source.addEventListener(type, (event) => {
      handle(JSON.parse(event.data));
      scheduleDraw();
    });
  on('snapshot', (b) => setBatch(b.status, b.progress));
  on('batch', (d) => setBatch(d.status, d));
  on('document', (d) => {
    setDocument(d);
    setBatch(document.getElementById('batch-status').textContent, d);
  });
  on('review', (d) => {
    const row = rowOf.get(d.document);
    if (row) row.querySelector('.review').textContent = d.status === 'waiting' ? 'waiting' : `${d.status}${d.reviewer ? ` by ${d.reviewer}` : ''}`;
    const states = [...rowOf.values()].map((r) => r.querySelector('.review').textContent.split(' ')[0]).filter(Boolean);
    const count = (state) => states.filter((s) => s === state).length;
    document.getElementById('reviews').textContent =
      ` · reviews: ${count('waiting')} waiting, ${count('approved')} approved, ${count('rejected')} rejected`;
  });
  on('step', taskStarted);
  on('page', taskStarted);
  on('task', taskEnded);
  on('end', (d) => {
    setBatch(d.status);
    ended = true;
    source.close();
    main.dataset.ended = 'true';
  });

  // ---- the timeline
  const box = document.getElementById('timeline');
  let drawPending = false;
  function scheduleDraw() {
    if (drawPending) return;
    drawPending = true;
    setTimeout(() => {
      drawPending = false;
      draw();
    }, 200);
  }
  setInterval(() => !ended && tasks.size > 0 && draw(), 1000); // running bars grow
  window.addEventListener('resize', scheduleDraw);

  function el(name, attributes, parent, text) {
    const node = document.createElementNS(svgNs, name);
    for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }

  const tickSteps = [100, 200, 500, 1000, 2000, 5000, 10000, 15000, 30000, 60000, 120000, 300000, 600000, 1800000, 3600000];
  const workerOrder = (name) => {
    const index = pipeline.indexOf(name.split('-')[0]);
    return index < 0 ? pipeline.length : index;
  };

  function draw() {
    const now = Date.now();
    const list = [...tasks.values()];
    box.querySelector('svg')?.remove();
    if (list.length === 0) {
      box.dataset.tasks = '0';
      if (!box.querySelector('.empty')) box.insertAdjacentHTML('beforeend', '<p class="empty" style="padding:0 1em">No task has started yet.</p>');
      return;
    }
    box.querySelector('.empty')?.remove();
    const start = Math.min(createdAt, ...list.map((t) => t.queued ?? t.started));
    const end = Math.max(start + 1000, ...list.map((t) => t.ended ?? now), ended ? 0 : now);
    const LABEL = 200;
    const width = Math.max(640, box.clientWidth);
    const plot = width - LABEL - 12;
    const x = (t) => LABEL + ((t - start) / (end - start)) * plot;

    // Rows: workers in pipeline order; in each, lanes so that a worker's concurrent tasks do not overlap.
    const byWorker = new Map();
    for (const t of list) (byWorker.get(t.worker) ?? byWorker.set(t.worker, []).get(t.worker)).push(t);
    const workers = [...byWorker.keys()].sort((a, b) => workerOrder(a) - workerOrder(b) || a.localeCompare(b));
    const AXIS = 20;
    const WAIT = 46;
    const LANE = 12;
    let y = AXIS + WAIT + 6;
    const rowsOut = workers.map((worker) => {
      const lanesEnd = [];
      const placed = byWorker
        .get(worker)
        .sort((a, b) => a.started - b.started)
        .map((t) => {
          let lane = lanesEnd.findIndex((e) => e <= t.started);
          if (lane < 0) lane = lanesEnd.push(0) - 1;
          lanesEnd[lane] = t.ended ?? now;
          return { t, lane };
        });
      const row = { worker, placed, top: y, height: lanesEnd.length * (LANE + 2) + 8 };
      y += row.height;
      return row;
    });

    const svg = el('svg', { width, height: y + 4, role: 'img', 'aria-label': 'timeline of the tasks, one row per worker' });
    // time axis
    const stepMs = tickSteps.find((s) => (end - start) / s <= 10) ?? 7200000;
    for (let t = 0; t <= end - start; t += stepMs) {
      el('line', { class: 'tick', x1: x(start + t), x2: x(start + t), y1: AXIS - 4, y2: y }, svg);
      el(
        'text',
        { class: 'tick-label', x: x(start + t) + 2, y: AXIS - 7 },
        svg,
        t === 0 ? '0' : stepMs < 1000 ? `${(t / 1000).toFixed(1)} s` : seconds(t),
      );
    }

    // waiting strip: tasks waiting per step over time, stacked
    const samples = Math.max(20, Math.min(400, Math.floor(plot / 3)));
    const at = (i) => start + ((end - start) * i) / (samples - 1);
    const counts = pipeline.map((step) =>
      Array.from(
        { length: samples },
        (_, i) => list.filter((t) => t.step === step && t.queued !== null && t.queued <= at(i) && at(i) < t.started).length,
      ),
    );
    const totals = Array.from({ length: samples }, (_, i) => counts.reduce((sum, c) => sum + c[i], 0));
    const peak = Math.max(1, ...totals);
    const base = AXIS + WAIT;
    const h = (n) => (n / peak) * (WAIT - 8);
    const below = new Array(samples).fill(0);
    pipeline.forEach((step, s) => {
      const top = counts[s].map((n, i) => below[i] + n);
      const points = [...top.map((n, i) => `${x(at(i))},${base - h(n)}`), ...below.map((n, i) => `${x(at(i))},${base - h(n)}`).reverse()];
      el('polygon', { points: points.join(' '), fill: COLORS[step] ?? '#888', 'fill-opacity': 0.35, class: 'waiting' }, svg);
      top.forEach((n, i) => (below[i] = n));
    });
    el('text', { class: 'lane-label', x: 6, y: AXIS + 16 }, svg, 'waiting in the queues');
    el('text', { class: 'lane-sub', x: 6, y: AXIS + 30 }, svg, `at most ${Math.max(...totals)} tasks`);
    el('line', { class: 'row-line', x1: 0, x2: width, y1: base + 3, y2: base + 3 }, svg);

    // worker rows and their bars
    for (const row of rowsOut) {
      const [id, ...rest] = row.worker.split(' ');
      el('text', { class: 'lane-label', x: 6, y: row.top + 13 }, svg, id);
      if (row.height >= 30) el('text', { class: 'lane-sub', x: 6, y: row.top + 26 }, svg, rest.join(' '));
      else el('title', {}, svg.lastChild, row.worker);
      el('line', { class: 'row-line', x1: 0, x2: width, y1: row.top + row.height, y2: row.top + row.height }, svg);
      for (const { t, lane } of row.placed) {
        const y0 = row.top + 4 + lane * (LANE + 2);
        const x0 = x(t.started);
        const classes = ['task', t.ended === null ? 'running' : '', BAD.has(t.status) ? 'bad' : '', chosen === t.document ? 'chosen' : ''];
        const rect = el(
          'rect',
          {
            class: classes.filter(Boolean).join(' '),
            x: x0,
            y: y0,
            width: Math.max(1.5, x(t.ended ?? now) - x0),
            height: LANE,
            fill: COLORS[t.step] ?? '#888',
            'data-document': t.document,
            'data-key': t.key,
          },
          svg,
        );
        const where = t.page === undefined ? t.step : `${t.step} page ${t.page + 1}`;
        const waited = t.queued === null ? '' : `waited ${seconds(Math.max(0, t.started - t.queued))} · `;
        const ran = t.ended === null ? `running for ${seconds(now - t.started)}` : `ran ${seconds(t.ended - t.started)} · ${t.status}`;
        el('title', {}, rect, `${nameOf(t.document)} · ${where} · attempt ${t.attempt}\n${t.worker}\n${waited}${ran}`);
        if (chosen === t.document && t.queued !== null && t.queued < t.started) {
          el('line', { class: 'wait', x1: x(Math.max(start, t.queued)), x2: x0, y1: y0 + LANE / 2, y2: y0 + LANE / 2 }, svg);
        }
      }
    }
    if (!ended) el('line', { class: 'now', x1: x(now), x2: x(now), y1: AXIS - 4, y2: y }, svg);
    box.classList.toggle('focus', chosen !== null);
    box.dataset.tasks = String(list.length);
    box.appendChild(svg);
  }

  // ---- following one document: its bars, the time each waited, its row
  function choose(documentId) {
    chosen = chosen === documentId ? null : documentId;
    for (const row of rows) row.classList.toggle('selected', row.dataset.document === chosen);
    if (chosen) rowOf.get(chosen)?.scrollIntoView({ block: 'nearest' });
    draw();
  }
  box.addEventListener('click', (event) => {
    const id = event.target.getAttribute?.('data-document');
    if (id) choose(id);
    else if (chosen) choose(chosen);
  });
  document.querySelector('#documents tbody').addEventListener('click', (event) => {
    const row = event.target.closest('tr');
    if (row && event.target.tagName !== 'A') choose(row.dataset.document);
  });

  document.getElementById('legend').innerHTML =
    pipeline.map((step) => `<span><i style="background:${COLORS[step] ?? '#888'}"></i>${step}</span>`).join('') +
    '<span><i style="background:#0969da;opacity:.55"></i>running now</span>' +
    '<span><i style="border:2px solid #cf222e"></i>failed, retried, timed out, crashed or cancelled</span>' +
    '<span>- - - the chosen document waiting</span>';
  draw();
})();
