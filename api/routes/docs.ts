/**
 * /docs: the API reference, Swagger UI rendering /openapi.json. Served offline from swagger-ui-dist in node_modules
 * (only the files the page loads), with a Content-Security-Policy that lets the page load nothing but its own
 * files and fetch nothing but this origin: the init script is a file, not an inline script.
 */
import { createRequire } from 'node:module';
import express, { type Router } from 'express';

const require = createRequire(import.meta.url);
const swaggerUiDist = require('swagger-ui-dist') as { getAbsoluteFSPath(): string };

/** The files the page loads; the package's own index.html and petstore initializer are not served. */
const ASSETS = new Set(['/swagger-ui.css', '/swagger-ui-bundle.js', '/favicon-32x32.png']);

// Swagger UI sets element styles from script (allowed) and draws its icons as data: SVGs in its stylesheet.
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>CertFlow API reference</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
</head>
<body>
<main id="swagger-ui"></main>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

const INIT = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
});
`;

export function docsRoutes(): Router {
  const router = express.Router();
  const docsPolicy: express.RequestHandler = (_req, res, next) => {
    res.setHeader('Content-Security-Policy', DOCS_CSP);
    next();
  };
  router.get(['/docs', '/docs/'], docsPolicy, (_req, res) => {
    res.type('html').send(PAGE);
  });
  router.get('/docs/init.js', docsPolicy, (_req, res) => {
    res.type('text/javascript').send(INIT);
  });
  router.use(
    '/docs/assets',
    docsPolicy,
    (req, res, next) => (ASSETS.has(req.path) ? next() : res.status(404).type('text/plain').send('not found\n')),
    express.static(swaggerUiDist.getAbsoluteFSPath(), {
      index: false,
      fallthrough: false,
      setHeaders: (res) => res.setHeader('Cache-Control', 'public, max-age=3600'),
    }),
  );
  return router;
}
