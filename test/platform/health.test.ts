import { readFileSync } from 'node:fs';
import path from 'node:path';
import { api } from '../support/api.ts';

describe('GET /health', () => {
  it('reports Postgres and Kafka reachable', async () => {
    const response = await api('GET', '/health');
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ status: 'ok', postgres: { ok: true }, kafka: { ok: true } });
  });

  it('runs on the Node.js major of the Lambda runtime that serverless.yml deploys', async () => {
    const serverlessYml = readFileSync(path.resolve(import.meta.dirname, '../../serverless.yml'), 'utf8');
    const deployed = /^provider:[\s\S]*?^ {2}runtime:\s*(\S+)/m.exec(serverlessYml)?.[1];
    expect(deployed).toMatch(/^nodejs\d+\.x$/);
    const response = await api('GET', '/health');
    expect(response.body.runtime).toBe(deployed);
  });
});

describe('GET /openapi.json', () => {
  it('is an OpenAPI 3.1 document that describes the health route', async () => {
    const response = await api('GET', '/openapi.json');
    expect(response.status).toBe(200);
    expect(response.body.openapi).toBe('3.1.0');
    expect(response.body.paths['/health'].get.operationId).toBe('getHealth');
    expect(response.body.components.schemas.Problem).toBeDefined();
  });
});

describe('GET /swagger', () => {
  it('serves the Swagger UI page and its assets from the local package', async () => {
    const page = await api('GET', '/swagger');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.text).toContain('/swagger/swagger-ui-bundle.js');
    const bundle = await fetch(`${process.env.API_URL}/swagger/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect((await bundle.text()).length).toBeGreaterThan(100_000);
  });

  it('answers an unknown asset with a 404 problem', async () => {
    const response = await api('GET', '/swagger/nope.js');
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
  });
});
