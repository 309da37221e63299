/**
 * GET /swagger and /swagger/{asset}: Swagger UI, served from the swagger-ui-dist package (no CDN:
 * it must work offline), pointed at /openapi.json.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

// Resolved at run time rather than bundled: the assets are files, not modules. Locally they come
// from node_modules; the AWS package includes them next to the handler (see serverless.yml).
const ASSET_PACKAGE = 'swagger-ui-dist/package.json';
const assetDir = () => path.dirname(createRequire(import.meta.url).resolve(ASSET_PACKAGE));

const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>shopstream API</title>
  <link rel="stylesheet" href="/swagger/swagger-ui.css">
  <link rel="icon" type="image/png" href="/swagger/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/swagger/swagger-ui-bundle.js"></script>
  <script src="/swagger/swagger-ui-standalone-preset.js"></script>
  <script src="/swagger/init.js"></script>
</body>
</html>`;

const INIT = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: 'StandaloneLayout',
});`;

export async function handler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const asset = event.pathParameters?.asset;
  if (!asset) return { statusCode: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: PAGE };
  if (asset === 'init.js') return { statusCode: 200, headers: { 'content-type': ASSETS['swagger-ui-bundle.js']! }, body: INIT };
  const contentType = ASSETS[asset];
  if (!contentType) {
    return { statusCode: 404, headers: { 'content-type': 'application/problem+json' }, body: JSON.stringify({ type: 'about:blank', title: 'Not found', status: 404, detail: `No Swagger UI asset named ${asset}` }) };
  }
  const bytes = await readFile(path.join(assetDir(), asset));
  const binary = contentType.startsWith('image/');
  return {
    statusCode: 200,
    headers: { 'content-type': contentType, 'cache-control': 'public, max-age=3600' },
    body: binary ? bytes.toString('base64') : bytes.toString('utf8'),
    isBase64Encoded: binary,
  };
}
