/**
 * Owns FilterCriteria: Lambda's event-filtering pattern language (the EventBridge-style syntax of
 * "Control which events Lambda sends to your function"), applied as the Kafka pages say — only to
 * a record's `value`, decoded as JSON when it parses and as a plain string otherwise. A record
 * passes when any one filter matches; one that matches none is dropped (and committed past).
 */
'use strict';

/**
 * @param {unknown[]} patterns parsed `Pattern` objects (serverless' `filterPatterns`)
 * @returns {null | ((value: Buffer | null) => boolean)} null when there is nothing to filter
 */
function compileFilters(patterns) {
  if (!patterns || patterns.length === 0) return null;
  for (const pattern of patterns) {
    if (!isObject(pattern)) throw new Error(`filter pattern must be an object: ${JSON.stringify(pattern)}`);
  }
  return (value) => {
    const data = { value: decodeValue(value) };
    return patterns.some((pattern) => matchObject(pattern, data));
  };
}

function decodeValue(value) {
  if (value == null) return undefined;
  const text = value.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every field of the pattern must match; `$or` takes a list of alternative sub-patterns. */
function matchObject(pattern, data) {
  for (const [key, sub] of Object.entries(pattern)) {
    if (key === '$or') {
      if (!Array.isArray(sub) || !sub.some((alt) => matchObject(alt, data))) return false;
      continue;
    }
    const field = isObject(data) ? data[key] : undefined;
    if (Array.isArray(sub)) {
      if (!matchLeaf(sub, field)) return false;
    } else if (isObject(sub)) {
      if (!isObject(field) && !(Array.isArray(field))) {
        // A nested pattern against a missing field only passes through `exists: false` leaves.
        if (!matchObject(sub, {})) return false;
      } else if (Array.isArray(field)) {
        if (!field.some((item) => matchObject(sub, item))) return false;
      } else if (!matchObject(sub, field)) return false;
    } else {
      throw new Error(`filter pattern values must be arrays or objects, got ${JSON.stringify(sub)} for "${key}"`);
    }
  }
  return true;
}

/** A leaf is a list of conditions; any one matching the value (or any element of an array) passes. */
function matchLeaf(conditions, field) {
  const values = Array.isArray(field) ? field : [field];
  return conditions.some((condition) => {
    if (isObject(condition) && 'exists' in condition) return condition.exists ? field !== undefined : field === undefined;
    return values.some((value) => value !== undefined && matchCondition(condition, value));
  });
}

function matchCondition(condition, value) {
  if (!isObject(condition)) return condition === value;
  if ('prefix' in condition) return typeof value === 'string' && stringRule(condition.prefix, value, (v, p) => v.startsWith(p));
  if ('suffix' in condition) return typeof value === 'string' && stringRule(condition.suffix, value, (v, s) => v.endsWith(s));
  if ('equals-ignore-case' in condition) return typeof value === 'string' && value.toLowerCase() === String(condition['equals-ignore-case']).toLowerCase();
  if ('wildcard' in condition) return typeof value === 'string' && wildcard(condition.wildcard).test(value);
  if ('numeric' in condition) return typeof value === 'number' && numeric(condition.numeric, value);
  if ('anything-but' in condition) {
    const but = condition['anything-but'];
    if (isObject(but)) return !matchCondition(but, value);
    return !(Array.isArray(but) ? but : [but]).includes(value);
  }
  if ('cidr' in condition) throw new Error('filter rule "cidr" is not supported by serverless-offline-msk');
  throw new Error(`unknown filter rule ${JSON.stringify(condition)}`);
}

/** `prefix` / `suffix` take a string or `{ "equals-ignore-case": … }`. */
function stringRule(rule, value, test) {
  if (isObject(rule) && 'equals-ignore-case' in rule) return test(value.toLowerCase(), String(rule['equals-ignore-case']).toLowerCase());
  return test(value, String(rule));
}

function wildcard(glob) {
  return new RegExp(`^${String(glob).split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 's');
}

const COMPARE = { '<': (a, b) => a < b, '<=': (a, b) => a <= b, '=': (a, b) => a === b, '>': (a, b) => a > b, '>=': (a, b) => a >= b };

function numeric(rule, value) {
  for (let i = 0; i < rule.length; i += 2) {
    const op = COMPARE[rule[i]];
    if (!op) throw new Error(`unknown numeric operator ${rule[i]}`);
    if (!op(value, Number(rule[i + 1]))) return false;
  }
  return true;
}

module.exports = { compileFilters };
