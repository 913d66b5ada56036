import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import type { ApiClient } from './client';

interface DocumentEntry {
  documentId: string;
  name: string;
  status: string;
  error: { code: string; message: string } | null;
  steps: {
    ocr?: { text: string; confidence: number; pdfKey?: string; layoutKey?: string } | null;
    nlp?: { language: string; entities: unknown[]; classification?: { label: string } | null } | null;
    validate?: { status: string } | null;
  };
  review?: { status: string; reviewer?: string } | null;
}

/** Every document of the job, as the server streams them (NDJSON), one at a time. */
async function* documents(client: ApiClient, id: string, include: string | undefined): AsyncGenerator<DocumentEntry> {
  const res = await client.fetch(`/v1/jobs/${id}/results?format=ndjson${include ? `&include=${encodeURIComponent(include)}` : ''}`);
  for await (const line of createInterface({ input: Readable.fromWeb(res.body! as import('node:stream/web').ReadableStream) })) {
    if (line.trim()) yield JSON.parse(line) as DocumentEntry;
  }
}

/** A file name from a document name: no folders, nothing a file system refuses. */
const safeName = (name: string) => name.replace(/[/\\:*?"<>|\p{Cc}]+/gu, '_').replace(/^\.+/, '_') || 'document';

export interface ResultsOptions {
  out?: string;
  include?: string;
  json: boolean;
}

/**
 * `docproc results`: a line per document (or NDJSON with --json); with --out DIR,
 * <name>.txt (the OCR text) and <name>.json (everything) per document, and — named by the
 * document's name without its extension — <stem>.pdf (searchable) where the job asked for
 * output "pdf", <stem>.md (Markdown) where it asked for "layout".
 * Returns how many documents did not complete.
 */
export async function results(client: ApiClient, id: string, options: ResultsOptions): Promise<number> {
  let notCompleted = 0;
  const used = new Set<string>();
  const usedStems = new Set<string>();
  if (options.out) await mkdir(options.out, { recursive: true });
  for await (const doc of documents(client, id, options.include)) {
    if (doc.status !== 'completed') notCompleted++;
    if (options.out) {
      let base = safeName(doc.name);
      if (used.has(base)) base = `${base}.${doc.documentId.slice(0, 8)}`;
      used.add(base);
      await writeFile(join(options.out, `${base}.json`), `${JSON.stringify(doc, null, 2)}\n`);
      if (doc.steps.ocr) await writeFile(join(options.out, `${base}.txt`), doc.steps.ocr.text);
      let stem = base.replace(/\.[A-Za-z0-9]{1,5}$/, '') || base;
      if (usedStems.has(stem)) stem = `${stem}.${doc.documentId.slice(0, 8)}`;
      usedStems.add(stem);
      const made = { pdf: doc.steps.ocr?.pdfKey ? 'pdf' : null, md: doc.steps.ocr?.layoutKey ? 'markdown' : null };
      for (const [extension, route] of Object.entries(made)) {
        if (!route) continue;
        const res = await client.fetch(`/v1/jobs/${id}/documents/${doc.documentId}/${route}`);
        await writeFile(join(options.out, `${stem}.${extension}`), Buffer.from(await res.arrayBuffer()));
      }
    }
    if (options.json) process.stdout.write(`${JSON.stringify(doc)}\n`);
    else {
      const { ocr, nlp, validate } = doc.steps;
      const facts = [
        ocr ? `confidence ${Math.round(ocr.confidence)}` : '',
        nlp ? `language ${nlp.language}, ${nlp.entities.length} entities${nlp.classification ? `, ${nlp.classification.label}` : ''}` : '',
        validate ? `validation ${validate.status}` : '',
        doc.review ? `review ${doc.review.status}${doc.review.reviewer ? ` by ${doc.review.reviewer}` : ''}` : '',
        doc.error ? `${doc.error.code}: ${doc.error.message}` : '',
      ].filter(Boolean);
      process.stdout.write(`${doc.status.padEnd(9)} ${doc.name}${facts.length ? `  (${facts.join('; ')})` : ''}\n`);
    }
  }
  if (options.out && !options.json) process.stderr.write(`wrote ${used.size} document(s) to ${options.out}\n`);
  return notCompleted;
}
