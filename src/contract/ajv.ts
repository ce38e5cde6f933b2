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
