import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import express, { Router } from 'express';
import { getAbsoluteFSPath } from 'swagger-ui-dist';
import { openApiDocument } from './openapi';

const VERSION = (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>docproc API</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
  <div id="ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
`;
const INIT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#ui', deepLinking: true });\n`;

/** /openapi.json, and /docs: Swagger UI served from the swagger-ui-dist package (no CDN). */
export function docsRoutes(): { spec: Router; pages: Router; document: ReturnType<typeof openApiDocument> } {
  const document = openApiDocument(VERSION);
  const spec = Router();
  spec.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  const pages = Router();
  pages.get('/', (_req, res) => {
    res.type('html').send(PAGE);
  });
  pages.get('/init.js', (_req, res) => {
    res.type('js').send(INIT);
  });
  pages.use('/assets', express.static(getAbsoluteFSPath(), { index: false, maxAge: '1h' }));
  return { spec, pages, document };
}
