import type { ErrorObject } from 'ajv';
import { Ajv2020, type Options } from 'ajv/dist/2020.js';
import { FORMATS, type FormatName } from './formats.js';

/**
 * An ajv instance that knows the contract's formats and its `x-rule` annotation: the
 * server's validators and the tests' checks of real answers compile from the same schemas
 * with it. `allErrors`: the validator reports the first problem in the order of the
 * fields, not in the order ajv meets keywords (it costs nothing on a valid body, where
 * every keyword runs anyway).
 */
export function contractAjv(options: Options = {}): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: true, ...options });
  for (const [name, format] of Object.entries(FORMATS) as [FormatName, (typeof FORMATS)[FormatName]][]) {
    ajv.addFormat(name, { type: 'string', validate: (value: string) => format.why(value) === undefined });
  }
  ajv.addKeyword({ keyword: 'x-rule', schemaType: 'string' });
  return ajv;
}

/** `#/components/schemas/Name` as the id a component is registered under in ajv: `Name`. */
export const withComponentIds = <T>(schema: T): T =>
  JSON.parse(JSON.stringify(schema), (key, value) => (key === '$ref' && typeof value === 'string' ? value.replace('#/components/schemas/', '') : value));

/** An ajv instance holding every component schema under its name, for schemas that refer to them. */
export function componentsAjv(components: Record<string, object>, options: Options = {}): Ajv2020 {
  const ajv = contractAjv(options);
  for (const [name, schema] of Object.entries(components)) ajv.addSchema(withComponentIds(schema), name);
  return ajv;
}

/** "a" or "b"; "a", "b" or "c". */
const choices = (values: unknown[]) => {
  const quoted = values.map((v) => JSON.stringify(v));
  return quoted.length === 1 ? quoted[0] : `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}`;
};

const ARTICLE: Record<string, string> = { object: 'an object', array: 'an array', integer: 'an integer', string: 'a string', boolean: 'a boolean', number: 'a number' };

/** The rule a keyword states, in words, for the message after the field's name: requests, the register's changes, the settings and the clients file say theirs so. */
export function rule(e: ErrorObject): string {
  const schema = (e.parentSchema ?? {}) as Record<string, unknown>;
  if (schema.type === 'integer' && typeof schema.minimum === 'number' && typeof schema.maximum === 'number') {
    return `must be an integer from ${schema.minimum} to ${schema.maximum}`;
  }
  switch (e.keyword) {
    case 'type':
      return `must be ${ARTICLE[String(e.params.type)] ?? e.params.type}`;
    case 'format':
      return FORMATS[e.params.format as FormatName]?.why(String(e.data)) ?? String(schema['x-rule']);
    case 'pattern':
      // A format says more than the pattern that states its form for clients.
      return (schema.format ? FORMATS[schema.format as FormatName]?.why(String(e.data)) : undefined) ?? String(schema['x-rule'] ?? 'is not in the expected form');
    case 'minLength':
      return e.params.limit === 1 ? 'must not be empty' : `must be at least ${e.params.limit} characters`;
    case 'maxLength':
      return `must be at most ${e.params.limit} characters`;
    case 'enum':
      return `must be ${choices(e.params.allowedValues as unknown[])}`;
    case 'const':
      return `must be ${JSON.stringify(e.params.allowedValue)}`;
    case 'exclusiveMinimum':
      return `must be a number above ${e.params.limit}`;
    case 'minItems':
      return e.params.limit === 1 ? 'must not be empty' : `must hold at least ${e.params.limit} entries`;
    case 'maxItems':
      return `must hold at most ${e.params.limit} entries`;
    default:
      return 'is not allowed here';
  }
}
