/**
 * GET /console and /console/assets/{asset}: the live saga console, a page of plain HTML, CSS and
 * script compiled into the bundle (esbuild's text import), so it needs no CDN and no files on
 * disk. Its data comes from the JSON routes in routes.ts.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { NotFoundError } from '#layers/errors';
import { problemResponse } from '#layers/http/problem';
import css from './assets/console.css' with { type: 'text' };
import page from './assets/console.html' with { type: 'text' };
import script from './assets/console.js' with { type: 'text' };

// Everything the page loads comes from this origin; the script makes no inline code necessary.
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

const ASSETS: Record<string, { type: string; body: string }> = {
  'console.css': { type: 'text/css; charset=utf-8', body: css },
  'console.js': { type: 'text/javascript; charset=utf-8', body: script },
};

export async function handler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const asset = event.pathParameters?.asset;
  if (!asset)
    return {
      statusCode: 200,
      headers: {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-cache',
        ...SECURITY_HEADERS,
      },
      body: page,
    };
  const found = ASSETS[asset];
  if (!found) return problemResponse(new NotFoundError(`No console asset named ${asset}.`), event.path);
  return {
    statusCode: 200,
    headers: { 'content-type': found.type, 'cache-control': 'no-cache', ...SECURITY_HEADERS },
    body: found.body,
  };
}
