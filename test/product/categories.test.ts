import { api, expectProblem } from '../support/api.ts';
import { closeDb, createCategory, runTag } from './support.ts';

const tag = runTag();
afterAll(closeDb);

describe('categories', () => {
  it('creates a category with a slug made from its name, and reads it back alone and in the list', async () => {
    const created = await api('POST', '/categories', {
      admin: true,
      body: { name: `  Garden Tools & Más ${tag} ` },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.any(String),
      name: `Garden Tools & Más ${tag}`,
      slug: `garden-tools-mas-${tag}`,
    });

    const one = await api('GET', `/categories/${created.body.id}`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual(created.body);

    const list = await api('GET', '/categories');
    expect(list.status).toBe(200);
    expect(list.body.items).toContainEqual(created.body);
  });

  it('keeps an explicit slug and answers 409 for a duplicate slug', async () => {
    const first = await api('POST', '/categories', {
      admin: true,
      body: { name: 'Kitchen', slug: `kitchen-${tag}` },
    });
    expect(first.status).toBe(201);
    expect(first.body.slug).toBe(`kitchen-${tag}`);

    const duplicate = await api('POST', '/categories', {
      admin: true,
      body: { name: 'Kitchen again', slug: `kitchen-${tag}` },
    });
    expectProblem(duplicate, 409);
    expect(duplicate.body.detail).toContain(`kitchen-${tag}`);
  });

  it('asks for a slug when the name has no letters or digits', async () => {
    const response = await api('POST', '/categories', { admin: true, body: { name: '!!!' } });
    expectProblem(response, 400);
    expect(response.body.errors).toContainEqual({ path: 'body.slug', message: expect.any(String) });
  });

  it('updates name and slug partially, with 409 on a taken slug and 404 for an unknown id', async () => {
    const category = await createCategory(`Toys ${tag}`);
    const other = await createCategory(`Games ${tag}`);

    const renamed = await api('PATCH', `/categories/${category.id}`, {
      admin: true,
      body: { name: `Toys and games ${tag}` },
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toEqual({ id: category.id, name: `Toys and games ${tag}`, slug: category.slug });

    const reslugged = await api('PATCH', `/categories/${category.id}`, {
      admin: true,
      body: { slug: `toys-and-games-${tag}` },
    });
    expect(reslugged.body.slug).toBe(`toys-and-games-${tag}`);

    expectProblem(
      await api('PATCH', `/categories/${category.id}`, { admin: true, body: { slug: other.slug } }),
      409,
    );
    expectProblem(await api('PATCH', `/categories/${category.id}`, { admin: true, body: {} }), 400);
    expectProblem(
      await api('PATCH', '/categories/00000000-0000-4000-8000-000000000000', {
        admin: true,
        body: { name: 'x' },
      }),
      404,
    );
    expect((await api('GET', `/categories/${category.id}`)).body.slug).toBe(`toys-and-games-${tag}`);
  });

  it('deletes a category (204), after which it is 404 and gone from the list', async () => {
    const category = await createCategory(`Doomed ${tag}`);
    const deleted = await api('DELETE', `/categories/${category.id}`, { admin: true });
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    expectProblem(await api('GET', `/categories/${category.id}`), 404);
    expectProblem(await api('DELETE', `/categories/${category.id}`, { admin: true }), 404);
    expect((await api('GET', '/categories')).body.items).not.toContainEqual(category);
  });

  it('answers 404 for an unknown id and 400 for a malformed one', async () => {
    expectProblem(await api('GET', '/categories/00000000-0000-4000-8000-000000000000'), 404);
    const malformed = await api('GET', '/categories/not-a-uuid');
    expectProblem(malformed, 400);
    expect(malformed.body.errors).toContainEqual({ path: 'path.id', message: expect.any(String) });
  });

  it('needs the admin key for writes: 401 without it, 403 with a wrong one, and nothing is written', async () => {
    const category = await createCategory(`Guarded ${tag}`);
    const cases = [
      ['POST', '/categories', { name: `Sneaky ${tag}` }],
      ['PATCH', `/categories/${category.id}`, { name: `Sneaky ${tag}` }],
      ['DELETE', `/categories/${category.id}`, undefined],
    ] as const;
    for (const [method, path, body] of cases) {
      expectProblem(await api(method, path, { body }), 401);
      expectProblem(await api(method, path, { body, headers: { 'x-api-key': 'wrong-key' } }), 403);
    }
    expect((await api('GET', `/categories/${category.id}`)).body).toEqual(category);
    expect(
      (await api('GET', '/categories')).body.items.filter(
        (c: { name: string }) => c.name === `Sneaky ${tag}`,
      ),
    ).toEqual([]);
  });
});
