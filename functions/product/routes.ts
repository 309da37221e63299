/** Routes of the product service: categories and products (admin writes, public reads). */
import { defineRoute } from '#layers/http/route';
import {
  Category,
  CategoryChanges,
  CategoryList,
  IdParams,
  NewCategory,
  NewProduct,
  Product,
  ProductCategoriesBody,
  ProductChanges,
  ProductListQuery,
  ProductPage,
} from './contract.ts';

const categoriesTag = ['Categories'];
const productsTag = ['Products'];

export const createCategory = defineRoute({
  operationId: 'createCategory',
  method: 'post',
  path: '/categories',
  summary: 'Create a category (the slug defaults to one made from the name)',
  tags: categoriesTag,
  admin: true,
  body: NewCategory,
  response: { status: 201, description: 'The new category', schema: Category },
  problems: [409, 413, 415],
});

export const listCategories = defineRoute({
  operationId: 'listCategories',
  method: 'get',
  path: '/categories',
  summary: 'Every category, by name',
  tags: categoriesTag,
  response: { status: 200, description: 'All categories', schema: CategoryList },
});

export const getCategory = defineRoute({
  operationId: 'getCategory',
  method: 'get',
  path: '/categories/{id}',
  summary: 'One category',
  tags: categoriesTag,
  params: IdParams,
  response: { status: 200, description: 'The category', schema: Category },
  problems: [404],
});

export const updateCategory = defineRoute({
  operationId: 'updateCategory',
  method: 'patch',
  path: '/categories/{id}',
  summary: 'Rename a category or change its slug',
  tags: categoriesTag,
  admin: true,
  params: IdParams,
  body: CategoryChanges,
  response: { status: 200, description: 'The category as changed', schema: Category },
  problems: [404, 409, 413, 415],
});

export const deleteCategory = defineRoute({
  operationId: 'deleteCategory',
  method: 'delete',
  path: '/categories/{id}',
  summary: 'Delete a category (its products stay, without it)',
  tags: categoriesTag,
  admin: true,
  params: IdParams,
  response: { status: 204, description: 'Deleted' },
  problems: [404],
});

export const createProduct = defineRoute({
  operationId: 'createProduct',
  method: 'post',
  path: '/products',
  summary: 'Create a product; inventory starts it with `initialStock` units (default 0)',
  tags: productsTag,
  admin: true,
  body: NewProduct,
  response: {
    status: 201,
    description: 'The new product (400 names any unknown category id)',
    schema: Product,
  },
  problems: [409, 413, 415],
});

export const listProducts = defineRoute({
  operationId: 'listProducts',
  method: 'get',
  path: '/products',
  summary: 'Live products, oldest first, one page at a time; filter by category or text',
  tags: productsTag,
  query: ProductListQuery,
  response: { status: 200, description: 'A page of products', schema: ProductPage },
});

export const getProduct = defineRoute({
  operationId: 'getProduct',
  method: 'get',
  path: '/products/{id}',
  summary: 'One product (404 once deleted)',
  tags: productsTag,
  params: IdParams,
  response: { status: 200, description: 'The product', schema: Product },
  problems: [404],
});

export const updateProduct = defineRoute({
  operationId: 'updateProduct',
  method: 'patch',
  path: '/products/{id}',
  summary: 'Change some of a product’s fields (`description: null` clears it)',
  tags: productsTag,
  admin: true,
  params: IdParams,
  body: ProductChanges,
  response: { status: 200, description: 'The product as changed', schema: Product },
  problems: [404, 409, 413, 415],
});

export const deleteProduct = defineRoute({
  operationId: 'deleteProduct',
  method: 'delete',
  path: '/products/{id}',
  summary: 'Delete a product: it leaves the catalog, its sku is free again and it can no longer be ordered',
  tags: productsTag,
  admin: true,
  params: IdParams,
  response: { status: 204, description: 'Deleted' },
  problems: [404],
});

export const setProductCategories = defineRoute({
  operationId: 'setProductCategories',
  method: 'put',
  path: '/products/{id}/categories',
  summary: 'Replace the categories a product is in',
  tags: productsTag,
  admin: true,
  params: IdParams,
  body: ProductCategoriesBody,
  response: {
    status: 200,
    description: 'The product with its new categories (400 names any unknown category id)',
    schema: Product,
  },
  problems: [404, 413, 415],
});

export const productRoutes = [
  createCategory,
  listCategories,
  getCategory,
  updateCategory,
  deleteCategory,
  createProduct,
  listProducts,
  getProduct,
  updateProduct,
  deleteProduct,
  setProductCategories,
];
