/**
 * A checker for the JSON Schema subset our OpenAPI document uses: type, properties,
 * required, additionalProperties: false, enum, const, items, minItems, maxItems,
 * minimum, maximum, maxLength, pattern, oneOf, $ref; type null. Returns the problems found.
 */
type Schema = Record<string, any>;

export function checkSchema(root: Schema, schema: Schema, value: unknown, path = '$'): string[] {
  if (schema.$ref) {
    const name = String(schema.$ref).replace('#/components/schemas/', '');
    return checkSchema(root, root.components.schemas[name], value, path);
  }
  if (schema.oneOf) {
    const passing = schema.oneOf.filter((s: Schema) => checkSchema(root, s, value, path).length === 0);
    return passing.length === 1 ? [] : [`${path}: matches ${passing.length} of oneOf`];
  }
  const problems: string[] = [];
  if (schema.const !== undefined && value !== schema.const) problems.push(`${path}: expected ${schema.const}`);
  if (schema.enum && !schema.enum.includes(value)) problems.push(`${path}: ${JSON.stringify(value)} not in enum`);
  switch (schema.type) {
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${path}: expected object`];
      const obj = value as Record<string, unknown>;
      for (const key of schema.required ?? []) if (!(key in obj)) problems.push(`${path}.${key}: required`);
      for (const [key, v] of Object.entries(obj)) {
        const sub = schema.properties?.[key];
        if (sub) problems.push(...checkSchema(root, sub, v, `${path}.${key}`));
        else if (schema.additionalProperties === false) problems.push(`${path}.${key}: not allowed`);
      }
      break;
    }
    case 'array':
      if (!Array.isArray(value)) return [`${path}: expected array`];
      if (schema.minItems !== undefined && value.length < schema.minItems) problems.push(`${path}: too few items`);
      if (schema.maxItems !== undefined && value.length > schema.maxItems) problems.push(`${path}: too many items`);
      value.forEach((v, i) => problems.push(...checkSchema(root, schema.items ?? {}, v, `${path}[${i}]`)));
      break;
    case 'string':
      if (typeof value !== 'string') return [`${path}: expected string`];
      if (schema.pattern && !new RegExp(schema.pattern).test(value)) problems.push(`${path}: does not match ${schema.pattern}`);
      if (schema.maxLength !== undefined && value.length > schema.maxLength) problems.push(`${path}: too long`);
      break;
    case 'integer':
    case 'number':
      if (typeof value !== 'number' || (schema.type === 'integer' && !Number.isInteger(value))) return [`${path}: expected ${schema.type}`];
      if (schema.minimum !== undefined && value < schema.minimum) problems.push(`${path}: below minimum`);
      if (schema.maximum !== undefined && value > schema.maximum) problems.push(`${path}: above maximum`);
      break;
    case 'boolean':
      if (typeof value !== 'boolean') return [`${path}: expected boolean`];
      break;
    case 'null':
      if (value !== null) return [`${path}: expected null`];
      break;
  }
  return problems;
}

/** The schema of a 200 (or given status) JSON response of a path, from the OpenAPI document. */
export function responseSchema(doc: Schema, path: string, method: string, status: number): Schema {
  const op = doc.paths[path][method];
  const response = op.responses[String(status)];
  if (!response) throw new Error(`${method.toUpperCase()} ${path} does not document status ${status}`);
  return response.content['application/json'].schema;
}
