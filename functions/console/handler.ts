/**
 * The console is one Lambda function serving all its routes: one bundle, one warm container and
 * one database connection for a page that polls every second. Each route's handler is its own
 * file; this picks it by API Gateway's resource (the route template) and method.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { NotFoundError } from '#layers/errors';
import { problemResponse } from '#layers/http/problem';
import { handler as getOrderJourney } from './getOrderJourney.ts';
import { handler as getSnapshot } from './getSnapshot.ts';
import { handler as listDeadLetters } from './listDeadLetters.ts';
import { handler as page } from './page.ts';
import { handler as replayDeadLetters } from './replayDeadLetters.ts';
import {
  getConsoleDeadLetters,
  getConsoleOrder,
  getConsoleSnapshot,
  replayConsoleDeadLetters,
} from './routes.ts';

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
const key = (method: string, path: string) => `${method.toUpperCase()} ${path}`;

const ROUTES = new Map<string, Handler>([
  [key('get', '/console'), page],
  [key('get', '/console/assets/{asset}'), page],
  [key(getConsoleSnapshot.method, getConsoleSnapshot.path), getSnapshot],
  [key(getConsoleOrder.method, getConsoleOrder.path), getOrderJourney],
  [key(getConsoleDeadLetters.method, getConsoleDeadLetters.path), listDeadLetters],
  [key(replayConsoleDeadLetters.method, replayConsoleDeadLetters.path), replayDeadLetters],
]);

export async function handler(event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> {
  const route = ROUTES.get(key(event.httpMethod, event.resource));
  if (route) return route(event, context);
  return problemResponse(
    new NotFoundError(`The console has no route ${event.httpMethod} ${event.resource}.`),
    event.path,
  );
}
