import { api } from '../support/api.ts';

describe('the catalog in /openapi.json', () => {
  let document: any;
  beforeAll(async () => {
    document = (await api('GET', '/openapi.json')).body;
  });

  it('describes every catalog and stock operation', () => {
    const operations = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.entries(item as object).map(
        ([method, op]) => `${method.toUpperCase()} ${path} ${(op as { operationId: string }).operationId}`,
      ),
    );
    expect(operations).toEqual(
      expect.arrayContaining([
        'POST /categories createCategory',
        'GET /categories listCategories',
        'GET /categories/{id} getCategory',
        'PATCH /categories/{id} updateCategory',
        'DELETE /categories/{id} deleteCategory',
        'POST /products createProduct',
        'GET /products listProducts',
        'GET /products/{id} getProduct',
        'PATCH /products/{id} updateProduct',
        'DELETE /products/{id} deleteProduct',
        'PUT /products/{id}/categories setProductCategories',
        'GET /inventory/{productId} getStock',
        'PUT /inventory/{productId} setStock',
      ]),
    );
  });

  it('documents admin writes with the x-api-key scheme and their 401/403/409 problems; reads are public', () => {
    const create = document.paths['/products'].post;
    expect(create.security).toEqual([{ AdminApiKey: [] }]);
    expect(Object.keys(create.responses)).toEqual(
      expect.arrayContaining(['201', '400', '401', '403', '409', '415']),
    );
    expect(create.responses['409'].content['application/problem+json'].schema.$ref).toBe(
      '#/components/schemas/Problem',
    );
    expect(document.paths['/products'].get.security).toBeUndefined();
    expect(document.paths['/inventory/{productId}'].put.responses['409']).toBeDefined();
  });

  it('generates request and response schemas, with examples, from the validating zod schemas', () => {
    const { NewProduct, Product, ProductPage, Stock } = document.components.schemas;
    expect(NewProduct.required).toEqual(['sku', 'name', 'price']);
    expect(NewProduct.additionalProperties).toBe(false);
    expect(NewProduct.properties.price).toMatchObject({ type: 'integer', minimum: 0 });
    expect(NewProduct.properties.currency).toMatchObject({ pattern: '^[A-Z]{3}$', default: 'USD' });
    for (const schema of [NewProduct, Product, ProductPage, Stock]) expect(schema.example).toBeDefined();
    const limit = document.paths['/products'].get.parameters.find(
      (p: { name: string }) => p.name === 'limit',
    );
    expect(limit.schema).toMatchObject({ minimum: 1, maximum: 100, default: 20 });
  });
});
